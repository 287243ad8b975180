package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHerdAckLeavesRoomForTheWarnings(t *testing.T) {
	// 5000 warnings at 25 cases/s: 1.2 * 200s / 0.9 = 266.7s, rounded up.
	assert.Equal(t, 267*time.Second, herdAck(5000, 25, 20*time.Second))
	assert.Equal(t, 20*time.Second, herdAck(10, 25, 20*time.Second), "never below the minimum")
	assert.Equal(t, time.Duration(0), herdAck(5000, 25, 0)%time.Second, "whole seconds")
	assert.Equal(t, herdAck(5000, 1, 0), herdAck(5000, 0, 0), "an unmeasured rate counts as 1/s")
}

func TestPlanHerdOpensAtTheFirstWholeMinuteAfterTheOpening(t *testing.T) {
	now := time.Date(2026, 11, 20, 9, 15, 42, 0, time.UTC)
	h := planHerd(now, 1000, 25, 60*time.Second)
	assert.Equal(t, 60*time.Second, h.Ack)
	assert.Zero(t, h.OpensAt.Second())
	ready := now.Add(10*time.Second + herdOpenEstimate(1000, 25))
	assert.True(t, h.OpensAt.After(ready), "opens %s, everything done by %s", h.OpensAt, ready)
	assert.Less(t, h.OpensAt.Sub(ready), time.Minute+time.Nanosecond, "no more than a minute lost")
}

func TestDrainProgress(t *testing.T) {
	rec := func(mails, pending int) escalationRecord { return escalationRecord{Mails: mails, Pending: pending} }
	for _, tc := range []struct {
		name    string
		records []escalationRecord
		want    int
		ok      bool
	}{
		{"all escalated, 3 emails settled each", []escalationRecord{rec(3, 0), rec(3, 0)}, 2, true},
		{"one case missing", []escalationRecord{rec(3, 0)}, 2, false},
		{"an email pending", []escalationRecord{rec(3, 0), rec(3, 1)}, 2, false},
		{"an email not yet claimed", []escalationRecord{rec(3, 0), rec(2, 0)}, 2, false},
		{"no email at all yet", []escalationRecord{rec(0, 0), rec(0, 0)}, 2, false},
	} {
		assert.Equal(t, tc.ok, progressOf(tc.records).complete(tc.want), tc.name)
	}
	p := progressOf([]escalationRecord{rec(3, 0), rec(2, 1)})
	assert.Equal(t, drainProgress{Escalated: 2, Mails: 5, Pending: 1, MinMails: 2, MaxMails: 3}, p)
}

func TestEscalationDrainedIsTheLaterOfRecordAndEmails(t *testing.T) {
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	e := escalationRecord{RecordedAt: at.Add(time.Second)}
	assert.Equal(t, at.Add(time.Second), e.Drained(), "no email: the record")
	e.MailsDone = at.Add(3 * time.Second)
	assert.Equal(t, at.Add(3*time.Second), e.Drained())
	e.MailsDone = at
	assert.Equal(t, at.Add(time.Second), e.Drained())
}

func TestBurstFiguresAgainstTheInstant(t *testing.T) {
	deadline := time.Date(2026, 11, 20, 9, 1, 30, 0, time.UTC)
	r := &burstResult{Cases: 3, Deadline: deadline}
	r.summarizeRecords([]escalationRecord{
		{Deadline: deadline, At: deadline.Add(100 * time.Millisecond), RecordedAt: deadline.Add(time.Second),
			MailsDone: deadline.Add(4 * time.Second), Mails: 3},
		{Deadline: deadline, At: deadline.Add(200 * time.Millisecond), RecordedAt: deadline.Add(2 * time.Second),
			MailsDone: deadline.Add(3 * time.Second), Mails: 3},
		// Opened after the calendar opened: a later deadline of its own.
		{Deadline: deadline.Add(time.Second), At: deadline.Add(1100 * time.Millisecond), RecordedAt: deadline.Add(5 * time.Second),
			MailsDone: deadline.Add(6 * time.Second), Mails: 3},
	})
	assert.Equal(t, 3, r.Escalated)
	assert.Equal(t, 2, r.AtDeadline)
	assert.Equal(t, millis(1000), r.DeadlineSpread)
	assert.Equal(t, 3, r.EmailsPerCase)
	assert.Equal(t, 6.0, r.DrainSeconds, "the last drained, from the instant")
	assert.Equal(t, 5.0, r.RecordedDrainSeconds)
	assert.Equal(t, millis(200), r.Lateness.P99, "lateness against each case's own deadline")
	assert.Equal(t, millis(4000), r.RecordLateness.Max)
	assert.Zero(t, r.DrainRatio, "no baseline yet")

	r.setBaseline(&timerBurstResult{DrainSeconds: 2, closedAfter: msD(500, 2000)})
	assert.Equal(t, 3.0, r.DrainRatio)
	require.Len(t, r.Curves, 3)
	assert.Equal(t, timerCurveName, r.Curves[2].Name)
	r.setBaseline(r.Baseline)
	assert.Len(t, r.Curves, 3, "the baseline's curve is added once")
}

func TestTimerBurstStartsBeforeItsInstant(t *testing.T) {
	in := &intakeResult{Concurrency: 8, startSample: msD(10, 30)} // 20 ms mean: 400 starts/s
	assert.InDelta(t, 400.0, in.startRate(), 1e-9)
	assert.Equal(t, fallbackStartRate, (&intakeResult{Concurrency: 8}).startRate(), "nothing timed")
	start, total := timerBurstEstimate(5000, 400)
	assert.Equal(t, 28*time.Second, start, "twice the predicted 12.5s, and 3s")
	assert.Equal(t, 83*time.Second, total, "and 50s to drain, and 5s")
}

func TestWarningsOver(t *testing.T) {
	assert.True(t, warningsCheck{Recorded: 3, Emails: 3}.over(3))
	assert.False(t, warningsCheck{Recorded: 2, Emails: 2}.over(3), "a case not warned yet")
	assert.False(t, warningsCheck{Recorded: 3, Emails: 3, EmailsPending: 1}.over(3), "an email pending")
	assert.False(t, warningsCheck{Recorded: 3, Emails: 2, OutboxWaiting: 1}.over(3), "a warning waiting in the outbox for its instant")
}
