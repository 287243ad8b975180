package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/codec"
	"github.com/tierflow/tierflow/workflows"
)

// echoCase is a stand-in for the case workflow with the same name and message
// contract, so that temporalCases is tested against a real Temporal server without
// the workflow's activities. Its validators reject the way the workflow does
// ("tierflow.<code>" application errors with the message and fields as details).
func echoCase(ctx workflow.Context, in workflows.CaseInput) (tierflow.CaseView, error) {
	return runEchoCase(ctx, in, true)
}

// echoCaseBeforeOpenUpdate is echoCase as workers ran it before the open Update.
func echoCaseBeforeOpenUpdate(ctx workflow.Context, in workflows.CaseInput) (tierflow.CaseView, error) {
	return runEchoCase(ctx, in, false)
}

func runEchoCase(ctx workflow.Context, in workflows.CaseInput, withOpenUpdate bool) (tierflow.CaseView, error) {
	view := openedView(OpenCommand{CaseID: tierflow.CaseID(in.Request.Source, in.Request.ExternalID),
		Request: in.Request, Policy: in.Policy}, workflow.GetInfo(ctx).WorkflowExecution.RunID)
	reject := func(code tierflow.Code, msg string) error {
		return temporal.NewApplicationErrorWithOptions(msg, workflows.RejectionTypePrefix+string(code),
			temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{msg, []tierflow.FieldError(nil)}})
	}
	if err := workflow.SetQueryHandler(ctx, workflows.QueryCase, func() (tierflow.CaseView, error) { return view, nil }); err != nil {
		return view, err
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, workflows.UpdateDecide,
		func(ctx workflow.Context, d tierflow.Decision) (tierflow.CaseView, error) {
			view.Seq++
			view.LastDecision = fmt.Sprintf("%s by %s", d.Action, d.Actor.ID)
			if d.Action == tierflow.ActionClose {
				view.Status = tierflow.StatusClosed
			}
			return view, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, d tierflow.Decision) error {
			if d.Action == tierflow.ActionResolve {
				return reject(tierflow.CodeConflict, "the case must be acknowledged before it is resolved")
			}
			return nil
		}})
	if err != nil {
		return view, err
	}
	err = workflow.SetUpdateHandler(ctx, workflows.UpdateCustomerEvent,
		func(ctx workflow.Context, e tierflow.CustomerEvent) (tierflow.CaseView, error) {
			view.Seq++
			return view, nil
		})
	if err != nil {
		return view, err
	}
	err = workflow.SetUpdateHandlerWithOptions(ctx, workflows.UpdateSurvey,
		func(ctx workflow.Context, r tierflow.SurveyResponse) (tierflow.CaseView, error) {
			resolved := r.Resolved
			view.Survey = &tierflow.SurveyState{Status: "answered", Score: r.Score, Resolved: &resolved}
			return view, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, r tierflow.SurveyResponse) error {
			if view.Survey != nil {
				return reject(tierflow.CodeConflict, "the survey was already answered")
			}
			return nil
		}})
	if err != nil {
		return view, err
	}
	if withOpenUpdate {
		err = workflow.SetUpdateHandlerWithOptions(ctx, workflows.UpdateOpen,
			func(ctx workflow.Context, r workflows.OpenRequest) (workflows.OpenAnswer, error) {
				return workflows.OpenAnswer{Case: view, Created: r.RequestID == in.OpenRequestID}, nil
			},
			workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, r workflows.OpenRequest) error {
				if r.Fingerprint != workflows.RequestFingerprint(in.Request) {
					return reject(tierflow.CodeConflict, "case already exists with a different request")
				}
				return nil
			}})
		if err != nil {
			return view, err
		}
	}
	if err := workflow.Await(ctx, func() bool { return view.Status == tierflow.StatusClosed }); err != nil {
		return view, err
	}
	return view, workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

func TestTemporalCasesAgainstADevServer(t *testing.T) {
	srv := sharedDevServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	raw, err := srv.Dial(ctx, nil)
	require.NoError(t, err)
	defer raw.Close()
	// As in production, payloads and failures are encrypted (the memo the API reads
	// back and the validators' rejections go through the codec), the API signs its
	// Updates, the open Update sent with the start too, and the worker checks them.
	tc, workerOpts := productionClient(t, ctx, raw, srv.Namespace())
	defer tc.Close()
	opts := client.Options{DataConverter: workerOpts.dataConverter}

	w := worker.New(tc, workflows.TaskQueue, worker.Options{Interceptors: workerOpts.interceptors})
	w.RegisterWorkflowWithOptions(echoCase, workflow.RegisterOptions{Name: workflows.WorkflowName})
	require.NoError(t, w.Start())
	workerStopped := false
	defer func() {
		if !workerStopped {
			w.Stop()
		}
	}()

	cases := newTemporalCases(tc, opts.DataConverter, slog.New(slog.DiscardHandler))
	require.NoError(t, cases.Ping(ctx))

	req := tierflow.OpenCaseRequest{Source: "it-crm", ExternalID: "1", Subject: "Refund", Priority: tierflow.PriorityHigh,
		Trigger: tierflow.TriggerUnresolved, OpenedAt: time.Date(2026, 11, 20, 9, 15, 0, 0, time.UTC),
		Customer: tierflow.Customer{ID: "C-1", Email: "ada@example.com"}}
	cmd := OpenCommand{CaseID: tierflow.CaseID(req.Source, req.ExternalID), Request: req,
		Policy: tierflow.Policy{Name: "standard", Version: "v1"}, OpenedBy: tierflow.Principal{ID: "crm", Role: tierflow.RoleIntegration},
		Fingerprint: requestFingerprint(req)}

	t.Run("open is idempotent", func(t *testing.T) {
		view, created, err := cases.Open(ctx, cmd)
		require.NoError(t, err)
		assert.True(t, created)
		assert.Equal(t, "it~crm-1", view.ID)
		assert.Equal(t, workflows.WorkflowID("it~crm-1"), view.Workflow.ID)
		assert.NotEmpty(t, view.Workflow.RunID)

		again, created, err := cases.Open(ctx, cmd)
		require.NoError(t, err)
		assert.False(t, created)
		assert.Equal(t, view, again)

		other := cmd
		other.Request.Subject = "Something else"
		other.Fingerprint = requestFingerprint(other.Request)
		_, _, err = cases.Open(ctx, other)
		assert.Equal(t, tierflow.CodeConflict, tierflow.ErrorCode(err), "%v", err)

		// One workflow, started once; the repeated open was answered by the running
		// workflow, and the conflicting one was refused before it left a trace.
		hist := historyOf(t, ctx, tc, workflows.WorkflowID(cmd.CaseID))
		assert.Equal(t, 1, hist.count(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED))
		assert.Equal(t, 2, hist.count(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED), "the first open and its repetition")
		assert.Equal(t, view.Workflow.RunID, hist.runID)

		desc, err := tc.DescribeWorkflow(ctx, workflows.WorkflowID(cmd.CaseID), "")
		require.NoError(t, err)
		summary, err := desc.GetStaticSummary()
		require.NoError(t, err)
		assert.Contains(t, summary, "it-crm #1")
		var fingerprint string
		require.NoError(t, desc.GetMemoValue(memoRequestSHA256, &fingerprint))
		assert.Equal(t, cmd.Fingerprint, fingerprint)
		rawDesc, err := raw.DescribeWorkflowExecution(ctx, workflows.WorkflowID(cmd.CaseID), "")
		require.NoError(t, err)
		assert.True(t, codec.IsEncrypted(rawDesc.GetWorkflowExecutionInfo().GetMemo().GetFields()[memoRequestSHA256]),
			"the stored memo is encrypted")
	})

	t.Run("decisions", func(t *testing.T) {
		actor := tierflow.Principal{ID: "sup-1", Role: tierflow.RoleSupervisor, Tier: 3}
		view, err := cases.Decide(ctx, cmd.CaseID, tierflow.Decision{Action: tierflow.ActionNote, Text: "hi", DecisionID: "d-1", Actor: actor})
		require.NoError(t, err)
		assert.Equal(t, "note by sup-1", view.LastDecision)
		seq := view.Seq

		again, err := cases.Decide(ctx, cmd.CaseID, tierflow.Decision{Action: tierflow.ActionNote, Text: "hi", DecisionID: "d-1", Actor: actor})
		require.NoError(t, err)
		assert.Equal(t, seq, again.Seq, "a repeated decision id is applied once")

		_, err = cases.Decide(ctx, cmd.CaseID, tierflow.Decision{Action: tierflow.ActionResolve, Resolution: "done", Actor: actor})
		var e *tierflow.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, tierflow.CodeConflict, e.Code)
		assert.Equal(t, "the case must be acknowledged before it is resolved", e.Message)

		_, err = cases.Decide(ctx, "it~crm-404", tierflow.Decision{Action: tierflow.ActionNote, Text: "x", Actor: actor})
		assert.Equal(t, tierflow.CodeNotFound, tierflow.ErrorCode(err), "%v", err)
		_, err = cases.Get(ctx, "it~crm-404")
		assert.Equal(t, tierflow.CodeNotFound, tierflow.ErrorCode(err), "%v", err)
	})

	t.Run("customer events and surveys", func(t *testing.T) {
		require.NoError(t, cases.CustomerEvent(ctx, cmd.CaseID, tierflow.CustomerEvent{Kind: tierflow.CustomerReply, EventID: "e-1"}))
		view, err := cases.AnswerSurvey(ctx, cmd.CaseID, tierflow.SurveyResponse{Score: 4, Resolved: true})
		require.NoError(t, err)
		require.NotNil(t, view.Survey)
		assert.Equal(t, 4, view.Survey.Score)
		_, err = cases.AnswerSurvey(ctx, cmd.CaseID, tierflow.SurveyResponse{Score: 5, Resolved: true})
		assert.Equal(t, tierflow.CodeConflict, tierflow.ErrorCode(err), "%v", err)
	})

	t.Run("through the HTTP API", func(t *testing.T) {
		env := newTestEnv(t)
		env.srv.Cases = cases
		env.handler = env.srv.routes()
		rec := env.do(request{method: "GET", path: "/v1/cases/" + cmd.CaseID, token: "dev-viewer"})
		v := caseOf(t, rec, http.StatusOK)
		assert.Empty(t, v.Customer.Email)
		rec = env.do(request{method: "POST", path: "/v1/cases/" + cmd.CaseID + "/decisions", token: "dev-executive",
			body: `{"action": "resolve", "resolution": "refunded"}`})
		p := problemOf(t, rec, http.StatusConflict)
		assert.Equal(t, "the case must be acknowledged before it is resolved", p.Detail)
		// A workflow Temporal no longer has (history expired) is read from the record.
		expired := fullCase("it~crm-expired", 2, "billing")
		expired.Status = tierflow.StatusClosed
		env.seed(expired)
		v = caseOf(t, env.do(request{method: "GET", path: "/v1/cases/it~crm-expired", token: "dev-viewer"}), http.StatusOK)
		assert.Equal(t, tierflow.StatusClosed, v.Status)
		assert.Empty(t, v.Customer.Email, "viewers do not see the email in the record either")
		// Temporal refuses a workflow id over 1000 bytes; the API answers 404 before asking.
		problemOf(t, env.do(request{method: "GET", path: "/v1/cases/it~crm-" + strings.Repeat("9", 1100), token: "dev-agent"}),
			http.StatusNotFound)
	})

	t.Run("a closed case", func(t *testing.T) {
		actor := tierflow.Principal{ID: "sup-1", Role: tierflow.RoleSupervisor, Tier: 3}
		_, err := cases.Decide(ctx, cmd.CaseID, tierflow.Decision{Action: tierflow.ActionClose, Reason: "duplicate", Actor: actor})
		require.NoError(t, err)
		run := tc.GetWorkflow(ctx, workflows.WorkflowID(cmd.CaseID), "")
		require.NoError(t, run.Get(ctx, nil))

		_, created, err := cases.Open(ctx, cmd)
		require.NoError(t, err, "a closed workflow in retention still answers a repeated open")
		assert.False(t, created)

		_, err = cases.Decide(ctx, cmd.CaseID, tierflow.Decision{Action: tierflow.ActionNote, Text: "late", Actor: actor})
		assert.Equal(t, tierflow.CodeNotFound, tierflow.ErrorCode(err), "%v", err)
	})

	t.Run("no worker", func(t *testing.T) {
		w.Stop()
		workerStopped = true
		next := cmd
		next.Request.ExternalID = "2"
		next.CaseID = tierflow.CaseID(next.Request.Source, "2")
		next.Fingerprint = requestFingerprint(next.Request)
		// The workflow starts, but nothing answers its open Update: the API does not
		// make up the case (503, retry); the retry finds the started workflow.
		shortOpen, cancelOpen := context.WithTimeout(ctx, time.Second)
		defer cancelOpen()
		_, _, err := cases.Open(shortOpen, next)
		assert.Equal(t, tierflow.CodeUnavailable, tierflow.ErrorCode(err), "%v", err)
		_, err = tc.DescribeWorkflow(ctx, workflows.WorkflowID(next.CaseID), "")
		require.NoError(t, err, "the workflow was started")

		short, cancelShort := context.WithTimeout(ctx, time.Second)
		defer cancelShort()
		_, err = cases.Decide(short, next.CaseID, tierflow.Decision{Action: tierflow.ActionNote, Text: "x",
			Actor: tierflow.Principal{ID: "a", Role: tierflow.RoleAgent, Tier: 1}})
		assert.Equal(t, tierflow.CodeUnavailable, tierflow.ErrorCode(err), "%v", err)

		// A query nobody answers is 503, not the Postgres fallback of a missing workflow.
		shortGet, cancelGet := context.WithTimeout(ctx, time.Second)
		defer cancelGet()
		_, err = cases.Get(shortGet, next.CaseID)
		assert.Equal(t, tierflow.CodeUnavailable, tierflow.ErrorCode(err), "%v", err)

		env := newTestEnv(t)
		env.srv.Cases = cases
		env.srv.UpdateTimeout = time.Second
		env.handler = env.srv.routes()
		env.seed(fullCase(next.CaseID, 1, "")) // a live case that does not answer is read from its record
		rec := env.do(request{method: "GET", path: "/v1/cases/" + next.CaseID, token: "dev-agent"})
		caseOf(t, rec, http.StatusOK)
		assert.Equal(t, "record", rec.Header().Get("X-Tierflow-Source"))
		problemOf(t, env.do(request{method: "POST", path: "/v1/cases/" + next.CaseID + "/decisions", token: "dev-agent",
			body: `{"action": "note", "text": "anyone there?"}`}), http.StatusServiceUnavailable)
		rec = env.do(request{method: "POST", path: "/v1/cases", token: "dev-integration",
			body: openBody(func(m map[string]any) { m["external_id"] = "no-worker-1" })})
		problemOf(t, rec, http.StatusServiceUnavailable)
		assert.NotEmpty(t, rec.Header().Get("Retry-After"), "an open nobody answered is retried")
		problemOf(t, env.do(request{method: "POST", path: "/v1/cases/" + next.CaseID + "/customer-events",
			token: "dev-integration", body: `{"kind": "reply"}`}), http.StatusServiceUnavailable)
		// A workflow that does not exist is still 404 (the fallback finds no record).
		problemOf(t, env.do(request{method: "GET", path: "/v1/cases/it~crm-405", token: "dev-agent"}), http.StatusNotFound)
	})
}
