package main

import (
	"fmt"
	"slices"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow/activities"
	"github.com/tierflow/tierflow/internal/updateauth"
	"github.com/tierflow/tierflow/workflows"
)

// registerPolicyMigration puts the bulk policy migration's workflow and its
// activity on the worker. The activity sends each case its decision as the API
// does, as a signed decide Update (the worker derives the update key from the
// survey keys it shares with the API), and only what the API authorized
// (activities.AuthorizeMigration). opts are the worker's client options (codec
// included); the signing client it returns shares c's connection and must be
// closed.
func registerPolicyMigration(r worker.Registry, c client.Client, opts client.Options, surveyKeys [][]byte) (client.Client, error) {
	signer, err := updateauth.NewSigner(surveyKeys)
	if err != nil {
		return nil, fmt.Errorf("policy migration: update signing key: %w", err)
	}
	opts.Interceptors = append(slices.Clone(opts.Interceptors), updateauth.ClientInterceptor(signer))
	signing, err := client.NewClientFromExisting(c, opts)
	if err != nil {
		return nil, fmt.Errorf("policy migration: signing client: %w", err)
	}
	r.RegisterWorkflowWithOptions(workflows.PolicyMigrationWorkflow,
		workflow.RegisterOptions{Name: workflows.PolicyMigrationWorkflowName})
	r.RegisterActivity(&activities.MigrationActivities{Cases: workflows.CaseDecider{Client: signing}, SurveyKeys: surveyKeys})
	return signing, nil
}
