package workflows

// Code levels (CaseInput.Code): the run-wide changes the code that starts a run
// has, so that the run takes them from its input instead of asking for a patch
// (a Version marker and a TemporalChangeVersion upsert in every run). Each level
// includes the ones below it; a new run-wide change adds a level and moves
// CurrentCode. Levels are never reused or renumbered. Runs without a level
// (started before levels, and every committed history up to them) ask for
// changeEmailOutbox and changeLeanHistory as patches and list those changes (or
// older ones) in the TemporalChangeVersion search attribute: that is how to
// find them. Runs with a level (the Code of their input) have every change of
// their level without asking. Continue-as-new carries the search attributes
// over, so a run continued from a pre-level run keeps the inherited list
// whatever its own level. A run continues at its own level
// (caseWorkflow.continueAsNew), so a pre-level case now stays at level 0
// throughout; the first code with levels continued every run at CurrentCode,
// and the cases it continued list the changes of their first run.
//
// A worker from before levels drops the field and runs any case at level 0; a
// level-aware worker replaying that history at the case's level would then
// meet a non-determinism error. So a level reaches cases only once no such
// worker is left: the API starts cases at TIERFLOW_CASE_CODE_LEVEL (0 while
// those workers roll; deploy/RUNBOOK.md, section 5), and continue-as-new keeps
// the run's level, never raising it. Level-aware workers refuse a level they
// do not know by failing the workflow task (askVersions), retried until a newer
// worker takes it, so later upgrades roll in any order.
const (
	// codeEmailOutbox: changeEmailOutbox, which implies changeLeanHistory and
	// every change older than it (impliedByLeanHistory).
	codeEmailOutbox = 1
	// codeSurveyOutbox: the survey email is written into the outbox at the
	// resolution, to go out at its send time (survey.go, scheduleSurvey): no
	// timer wakes the case to send it, and the case records survey_sent at its
	// next step.
	codeSurveyOutbox = 2
	// codeDeadlineNotWarning: the NextDeadline search attribute is the nearest
	// deadline, not the warning before it, so a 75% warning (or the close
	// target's) changes no search attribute and upserts nothing.
	codeDeadlineNotWarning = 3
	// codeWarningOutbox: the 75% warnings of the tier clocks are written into
	// the outbox when their clock starts, to go out at their instant
	// (warnings.go): no timer wakes the case for them, and the case records each
	// at its next step.
	codeWarningOutbox = 4
)

// CurrentCode is the code level of this code: the highest level its workers
// run, and the level the API starts cases at unless TIERFLOW_CASE_CODE_LEVEL
// names a lower one (continue-as-new keeps the run's own level). Workers must
// be deployed before the API that starts runs at a new level; rolling back is
// safe only to a release that knows every level in flight.
const CurrentCode = codeWarningOutbox
