package workflows

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
)

// The open Update answers POST /v1/cases in one round trip. The API sends it with
// the workflow's start (Update-with-Start, ID conflict policy "use existing"), so
// the first request for a case starts the workflow and every identical one after
// it reaches the running workflow:
//
//   - the validator refuses a request whose fingerprint differs from the one the
//     case was opened with (tierflow.conflict; a refused Update leaves no trace);
//   - the handler answers the case's receipt once the record holds everything up
//     to it (for the request that started the workflow: the opening transition),
//     the rule of every Update, so that the API reads the case from the record and
//     GET /v1/cases/{id}/events shows the opening as soon as POST /v1/cases answers;
//   - Created tells the request that started this workflow (its RequestID is the
//     input's OpenRequestID) from a repeated one.
//
// Registering the handler adds no command to any run, and histories from before it
// never carry the Update, so it needs no patch. Workflows still served by a worker
// from before it reject the Update as unknown; the API then answers from the
// workflow's memo and query, as it did before the Update existed.

// OpenRequest is the open Update's argument. Both fields travel in the Update's
// signed arguments (internal/updateauth), so both sides marshal this type.
type OpenRequest struct {
	// Fingerprint is RequestFingerprint of the request being opened.
	Fingerprint string `json:"fingerprint"`
	// RequestID identifies the API request; it is CaseInput.OpenRequestID of the
	// workflow that request started.
	RequestID string `json:"request_id"`
}

// OpenAnswer is the open Update's result. Workers from before receipts answered
// the whole CaseView under "case"; clients decode it as a tierflow.CaseAnswer.
type OpenAnswer struct {
	Case tierflow.Receipt `json:"case"`
	// Created: this request started the workflow (POST /v1/cases answers 201).
	Created bool `json:"created"`
}

// RequestFingerprint is the hex sha256 of an open request's canonical JSON (fields
// in declaration order, times in UTC), so equal requests give equal fingerprints
// however the client formatted them. The API stores it in the workflow's memo
// (request_sha256) and sends it with the open Update; the workflow computes it
// from its own input, which went through the same JSON.
func RequestFingerprint(req tierflow.OpenCaseRequest) string {
	req.OpenedAt = req.OpenedAt.UTC()
	// workflowcheck flags encoding/json for reflect's type cache; marshalling plain
	// data gives the same bytes every time, and only the validator, which never
	// runs on replay, calls this inside the workflow.
	//workflowcheck:ignore
	b, err := json.Marshal(req)
	if err != nil {
		panic("marshal open request: " + err.Error()) // plain data: cannot fail
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// setupOpen registers the open Update (after every other handler: registering it
// lets a queued Update-with-Start run, and the handlers it may wait behind exist).
func (w *caseWorkflow) setupOpen(ctx workflow.Context) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateOpen, w.openUpdate, workflow.UpdateHandlerOptions{
		Validator: w.validateOpenUpdate,
		Description: "Answer an open request from the Tierflow API (sent with the start): the case's receipt once its " +
			"record holds it, or tierflow.conflict when the case was opened with a different request.",
	})
}

func (w *caseWorkflow) validateOpenUpdate(_ workflow.Context, r OpenRequest) error {
	if r.Fingerprint != RequestFingerprint(w.in.Request) {
		return rejection(tierflow.Errorf(tierflow.CodeConflict, "case %s already exists with a different request", w.st.CaseID))
	}
	return nil
}

// openUpdate waits for the transition in progress (the opening, when the Update
// came with the start) and answers like every Update: never ahead of the record.
func (w *caseWorkflow) openUpdate(ctx workflow.Context, r OpenRequest) (OpenAnswer, error) {
	if err := w.mu.Lock(ctx); err != nil {
		return OpenAnswer{}, err
	}
	receipt, err := w.answer(ctx)
	if err != nil {
		return OpenAnswer{}, err
	}
	return OpenAnswer{Case: receipt, Created: r.RequestID != "" && r.RequestID == w.in.OpenRequestID}, nil
}
