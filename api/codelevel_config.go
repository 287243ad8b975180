package main

import (
	"fmt"
	"strconv"

	"github.com/tierflow/tierflow/workflows"
)

// envCaseCodeLevel is the code level of the cases the API opens (documented in
// main.go).
const envCaseCodeLevel = "TIERFLOW_CASE_CODE_LEVEL"

// loadCaseCodeLevel reads the code level the API starts new cases at
// (workflows.CaseInput.Code): workflows.CurrentCode when unset. A lower level
// lets workers that predate the current one run the new cases: 0 while workers
// from a release without code levels are still rolling out (deploy/RUNBOOK.md,
// section 5). A level above CurrentCode would start cases no worker of this
// release can run, so it is refused.
func loadCaseCodeLevel(getenv func(string) string) (int, error) {
	v := getenv(envCaseCodeLevel)
	if v == "" {
		return workflows.CurrentCode, nil
	}
	level, err := strconv.Atoi(v)
	if err != nil || level < 0 || level > workflows.CurrentCode {
		return 0, fmt.Errorf("%s must be a code level from 0 to %d (unset: %d), got %q",
			envCaseCodeLevel, workflows.CurrentCode, workflows.CurrentCode, v)
	}
	return level, nil
}
