package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
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

// echoWorker is a stand-in for the case workflow's worker with the same workflow
// name and message contract, so that temporalCases is tested against a real
// Temporal server without the workflow's activities. Its validators reject the
// way the workflow does ("tierflow.<code>" application errors with the message
// and fields as details).
type echoWorker struct {
	// openUpdate: the workflow has the open Update (workers since Update-with-Start).
	openUpdate bool
	// records, when set, makes it a worker since receipts: every change is written
	// to records (a local activity, as RecordTransition) before an Update answers
	// its receipt. Without it the Updates answer the whole case, as before.
	records *fakeRecords
}

// unrecordedNote is the text of a note the receipts echo does not record: its
// record is deferred, as during a database outage.
const unrecordedNote = "the database is down"

func (e echoWorker) register(w worker.Worker) {
	w.RegisterWorkflowWithOptions(e.run, workflow.RegisterOptions{Name: workflows.WorkflowName})
	if e.records != nil {
		w.RegisterActivity(e.records.record)
	}
}

func (e echoWorker) run(ctx workflow.Context, in workflows.CaseInput) (tierflow.CaseView, error) {
	view := openedView(OpenCommand{CaseID: tierflow.CaseID(in.Request.Source, in.Request.ExternalID),
		Request: in.Request, Policy: in.Policy}, workflow.GetInfo(ctx).WorkflowExecution.RunID)
	reject := func(code tierflow.Code, msg string) error {
		return temporal.NewApplicationErrorWithOptions(msg, workflows.RejectionTypePrefix+string(code),
			temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{msg, []tierflow.FieldError(nil)}})
	}
	// answer is what an Update answers after a change: the whole case, or, once
	// recorded, its receipt.
	answer := func(ctx workflow.Context, record bool) (any, error) {
		if e.records == nil {
			return view, nil
		}
		if record {
			lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 5 * time.Second})
			if err := workflow.ExecuteLocalActivity(lctx, e.records.record, view).Get(ctx, nil); err != nil {
				return nil, err
			}
		}
		return tierflow.ReceiptOf(view), nil
	}
	if err := workflow.SetQueryHandler(ctx, workflows.QueryCase, func() (tierflow.CaseView, error) { return view, nil }); err != nil {
		return view, err
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, workflows.UpdateDecide,
		func(ctx workflow.Context, d tierflow.Decision) (any, error) {
			view.Seq++
			view.LastDecision = fmt.Sprintf("%s by %s", d.Action, d.Actor.ID)
			if d.Action == tierflow.ActionClose {
				view.Status = tierflow.StatusClosed
			}
			return answer(ctx, d.Text != unrecordedNote)
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
		func(ctx workflow.Context, ev tierflow.CustomerEvent) (any, error) {
			view.Seq++
			return answer(ctx, true)
		})
	if err != nil {
		return view, err
	}
	err = workflow.SetUpdateHandlerWithOptions(ctx, workflows.UpdateSurvey,
		func(ctx workflow.Context, r tierflow.SurveyResponse) (any, error) {
			resolved := r.Resolved
			view.Seq++
			view.Survey = &tierflow.SurveyState{Status: "answered", Score: r.Score, Resolved: &resolved}
			return answer(ctx, true)
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
	if e.openUpdate {
		err = workflow.SetUpdateHandlerWithOptions(ctx, workflows.UpdateOpen,
			func(ctx workflow.Context, r workflows.OpenRequest) (any, error) {
				created := r.RequestID == in.OpenRequestID
				if e.records == nil {
					return struct {
						Case    tierflow.CaseView `json:"case"`
						Created bool              `json:"created"`
					}{view, created}, nil
				}
				// The opening is recorded before the open Update answers (handlers are
				// registered first: an Update-with-Start finding none is refused).
				if _, err := answer(ctx, true); err != nil {
					return nil, err
				}
				return workflows.OpenAnswer{Case: tierflow.ReceiptOf(view), Created: created}, nil
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

// Both shapes of answer: workers since receipts answer a receipt, and the API
// reads the case from the record; workers before them (still serving their
// cases during a rolling deploy) answer the whole case.
func TestTemporalCasesAgainstADevServer(t *testing.T) {
	t.Run("receipts", func(t *testing.T) { testTemporalCases(t, "r", true) })
	t.Run("whole cases from an older worker", func(t *testing.T) { testTemporalCases(t, "v", false) })
}

func testTemporalCases(t *testing.T, prefix string, receipts bool) {
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

	records := newFakeRecords()
	echo := echoWorker{openUpdate: true}
	if receipts {
		echo.records = records
	}
	w := worker.New(tc, workflows.TaskQueue, worker.Options{Interceptors: workerOpts.interceptors})
	echo.register(w)
	require.NoError(t, w.Start())
	workerStopped := false
	defer func() {
		if !workerStopped {
			w.Stop()
		}
	}()

	var logs syncBuffer
	cases := newTemporalCases(tc, opts.DataConverter, records, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, cases.Ping(ctx))
	level := workflows.CurrentCode
	if !receipts {
		// Workers from before code levels: the API starts cases without one
		// (TIERFLOW_CASE_CODE_LEVEL=0) until every worker knows them.
		level, cases.codeLevel = 0, 0
	}

	req := tierflow.OpenCaseRequest{Source: "it-crm", ExternalID: prefix + "1", Subject: "Refund", Priority: tierflow.PriorityHigh,
		Trigger: tierflow.TriggerUnresolved, OpenedAt: time.Date(2026, 11, 20, 9, 15, 0, 0, time.UTC),
		Customer: tierflow.Customer{ID: "C-1", Email: "ada@example.com"}}
	cmd := OpenCommand{CaseID: tierflow.CaseID(req.Source, req.ExternalID), Request: req,
		Policy: tierflow.Policy{Name: "standard", Version: "v1"}, OpenedBy: tierflow.Principal{ID: "crm", Role: tierflow.RoleIntegration},
		Fingerprint: requestFingerprint(req)}

	t.Run("open is idempotent", func(t *testing.T) {
		view, created, err := cases.Open(ctx, cmd)
		require.NoError(t, err)
		assert.True(t, created)
		assert.Equal(t, "it~crm-"+prefix+"1", view.ID)
		assert.Equal(t, workflows.WorkflowID("it~crm-"+prefix+"1"), view.Workflow.ID)
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
		// The case runs at the API's code level: its worker takes the run-wide
		// changes from the input, without a patch marker (level 0: it asks).
		first, err := tc.GetWorkflowHistory(ctx, workflows.WorkflowID(cmd.CaseID), "", false,
			enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT).Next()
		require.NoError(t, err)
		var input workflows.CaseInput
		require.NoError(t, opts.DataConverter.FromPayloads(first.GetWorkflowExecutionStartedEventAttributes().GetInput(), &input))
		assert.Equal(t, level, input.Code)

		desc, err := tc.DescribeWorkflow(ctx, workflows.WorkflowID(cmd.CaseID), "")
		require.NoError(t, err)
		summary, err := desc.GetStaticSummary()
		require.NoError(t, err)
		assert.Contains(t, summary, "it-crm #"+prefix+"1")
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
		if receipts {
			recorded, err := records.GetCase(ctx, cmd.CaseID)
			require.NoError(t, err)
			assert.Equal(t, recorded, view, "the case after the decision is the record's")
		}
		assert.NotContains(t, logs.String(), "behind", "the record held every answered transition")

		// A record deferred (a database outage): the case comes from the query, which
		// is current, and a log line says so.
		behind, err := cases.Decide(ctx, cmd.CaseID, tierflow.Decision{Action: tierflow.ActionNote, Text: unrecordedNote, Actor: actor})
		require.NoError(t, err)
		assert.Equal(t, seq+1, behind.Seq, "the case after the decision, not the record's older copy")
		if receipts {
			recorded, err := records.GetCase(ctx, cmd.CaseID)
			require.NoError(t, err)
			assert.Equal(t, seq, recorded.Seq, "the record is behind")
			assert.Contains(t, logs.String(), "the case's record is behind its workflow")
			assert.Contains(t, logs.String(), "receipt_seq="+strconv.FormatInt(seq+1, 10))
		}

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
		next.Request.ExternalID = prefix + "2"
		next.CaseID = tierflow.CaseID(next.Request.Source, next.Request.ExternalID)
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
			body: openBody(func(m map[string]any) { m["external_id"] = prefix + "-no-worker-1" })})
		problemOf(t, rec, http.StatusServiceUnavailable)
		assert.NotEmpty(t, rec.Header().Get("Retry-After"), "an open nobody answered is retried")
		problemOf(t, env.do(request{method: "POST", path: "/v1/cases/" + next.CaseID + "/customer-events",
			token: "dev-integration", body: `{"kind": "reply"}`}), http.StatusServiceUnavailable)
		// A workflow that does not exist is still 404 (the fallback finds no record).
		problemOf(t, env.do(request{method: "GET", path: "/v1/cases/it~crm-405", token: "dev-agent"}), http.StatusNotFound)
	})
}
