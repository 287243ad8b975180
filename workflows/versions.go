package workflows

// Change IDs of the patches in this package (see "Versioning" in doc.go). Each one
// guards a change to the commands a run emits; remove a patch, keeping only its
// new branch, once no run older than its month can be open (30 days plus the
// survey: look for it with the TemporalChangeVersion search attribute).
const (
	// changeCadenceOnEveryEmail: every email that tells the customer who handles the
	// case and by when (escalation, transfer, new ETA) restarts the update cadence,
	// as a human update does; before, only an update_customer decision did.
	changeCadenceOnEveryEmail = "2026-11-cadence-on-every-customer-email"
	// changeETAOnApprovalPause: the customer is told when the tier clocks pause for
	// an approval (no ETA until it is decided) and gets the new ETA when they resume.
	changeETAOnApprovalPause = "2026-11-eta-on-approval-pause"
	// changeRecordUndecodableSignals: a signal whose payload does not decode is
	// recorded as decision_rejected; before, the SDK dropped it with a log line.
	changeRecordUndecodableSignals = "2026-11-record-undecodable-signals"
	// changeRearmTopTierClock: a missed tier-4 acknowledge or resolve clock starts
	// again, so the executives are told at every period; before, no tier clock ran
	// after it.
	changeRearmTopTierClock = "2026-11-rearm-top-tier-clock"
)
