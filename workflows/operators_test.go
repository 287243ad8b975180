package workflows

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tierflow/tierflow"
)

// What an operator sees in the Temporal UI through a busy case (breaches on every
// tier, an approval that climbs, progress emails): every timer and activity has a summary, the search attributes
// answer "CaseTier >= 3 AND SlaBreached = true", and none of it names the customer.
func TestOperatorsSeeSummariesWithoutPersonalData(t *testing.T) {
	env, _ := testEnv(t, t0)
	ops := &opsRecorder{}
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{ops}})
	r := testRequest()
	r.Priority = tierflow.PriorityHigh
	decideAt(t, env, time.Hour, tierflow.Decision{Action: tierflow.ActionAcknowledge, Actor: agent})
	decideAt(t, env, 2*time.Hour, tierflow.Decision{Action: tierflow.ActionProposeCompensation, Actor: agent,
		AmountCents: 30000, Currency: "EUR", Description: "refund for Ada Lovelace"})
	at(env, 6*time.Hour+30*time.Minute, func() {
		sendUpdate(t, env, UpdateDecide, tierflow.Decision{Action: tierflow.ActionApprove, Actor: executive, ApprovalID: "apr-4"})
	})
	var breached searchState
	at(env, 3*day, func() { breached = ops.state() })
	at(env, 3*day+time.Hour, func() {
		env.SignalWorkflow(SignalCustomerEvent, tierflow.CustomerEvent{Kind: tierflow.CustomerWithdrawn, EventID: "w"})
	})
	env.ExecuteWorkflow(WorkflowName, input(testPolicy(), r))
	final := result(t, env)
	require.Len(t, final.Compensation, 1)
	require.Equal(t, tierflow.CompensationApproved, final.Compensation[0].Status)

	end := ops.state()
	ops.mu.Lock()
	defer ops.mu.Unlock()
	kinds := map[string]int{}
	for _, s := range ops.summaries {
		kinds[s.kind]++
		assert.NotEmpty(t, s.summary, "%s without a summary", s.kind)
		for _, pii := range []string{"Ada", "Lovelace", "ada@example.com"} {
			assert.NotContains(t, s.summary, pii, s.kind)
		}
	}
	for _, k := range []string{"timer", "local activity RecordTransition", "local activity AssignOwner"} {
		assert.Positive(t, kinds[k], "no %s seen", k)
	}
	// The emails go to the outbox with their record, whose summary names them.
	var namesEmails bool
	for _, s := range ops.summaries {
		namesEmails = namesEmails || (s.kind == "local activity RecordTransition" && strings.Contains(s.summary, "; email customer: "))
	}
	assert.True(t, namesEmails, "a record's summary names its emails")
	assert.Contains(t, ops.timerLabels(), "approval apr-4 expiry at tier 3")
	assert.Contains(t, ops.timerLabels(), "tier 1 resolve deadline")

	assert.GreaterOrEqual(t, breached.tier, int64(3))
	assert.True(t, breached.slaBreached, "CaseTier >= 3 AND SlaBreached = true finds it")
	assert.Equal(t, int64(final.Tier), end.tier)
	assert.Equal(t, string(tierflow.StatusClosed), end.status)
	for _, v := range end.keywords {
		assert.NotContains(t, v, "Ada")
		assert.NotContains(t, v, "ada@example.com")
	}
}

// opsRecorder is a worker interceptor that notes the summary of every timer and
// activity the workflow starts, and every search attribute it upserts.
type opsRecorder struct {
	interceptor.WorkerInterceptorBase
	mu        sync.Mutex
	summaries []summarised
	upserts   []temporal.SearchAttributeUpdate
}

type summarised struct{ kind, summary string }

type searchState struct {
	tier        int64
	status      string
	slaBreached bool
	keywords    []string
}

func (r *opsRecorder) note(kind, summary string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.summaries = append(r.summaries, summarised{kind, summary})
}

func (r *opsRecorder) timerLabels() []string {
	var out []string
	for _, s := range r.summaries {
		if s.kind == "timer" {
			out = append(out, s.summary)
		}
	}
	return out
}

// state replays every upsert so far: the search attributes as the server holds them.
func (r *opsRecorder) state() searchState {
	r.mu.Lock()
	sa := temporal.NewSearchAttributes(r.upserts...)
	r.mu.Unlock()
	var s searchState
	s.tier, _ = sa.GetInt64(SACaseTier)
	s.status, _ = sa.GetKeyword(SACaseStatus)
	s.slaBreached, _ = sa.GetBool(SASlaBreached)
	for _, k := range []temporal.SearchAttributeKeyKeyword{SACaseStatus, SACasePriority, SACaseDepartment, SACaseSource,
		SACaseCategory, SACaseAssignee} {
		if v, ok := sa.GetKeyword(k); ok {
			s.keywords = append(s.keywords, v)
		}
	}
	return s
}

func (r *opsRecorder) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &opsInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, r: r}
}

type opsInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	r *opsRecorder
}

func (i *opsInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&opsOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}, r: i.r})
}

type opsOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	r *opsRecorder
}

func (o *opsOutbound) ExecuteActivity(ctx workflow.Context, typ string, args ...any) workflow.Future {
	o.r.note("activity "+typ, workflow.GetActivityOptions(ctx).Summary)
	return o.Next.ExecuteActivity(ctx, typ, args...)
}

func (o *opsOutbound) ExecuteLocalActivity(ctx workflow.Context, typ string, args ...any) workflow.Future {
	o.r.note("local activity "+typ, workflow.GetLocalActivityOptions(ctx).Summary)
	return o.Next.ExecuteLocalActivity(ctx, typ, args...)
}

func (o *opsOutbound) NewTimerWithOptions(ctx workflow.Context, d time.Duration, opts workflow.TimerOptions) workflow.Future {
	o.r.note("timer", opts.Summary)
	return o.Next.NewTimerWithOptions(ctx, d, opts)
}

func (o *opsOutbound) UpsertTypedSearchAttributes(ctx workflow.Context, attrs ...temporal.SearchAttributeUpdate) error {
	o.r.mu.Lock()
	o.r.upserts = append(o.r.upserts, attrs...)
	o.r.mu.Unlock()
	return o.Next.UpsertTypedSearchAttributes(ctx, attrs...)
}
