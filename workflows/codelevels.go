package workflows

// Code levels (CaseInput.Code): the run-wide changes the code that starts a run
// has, so that the run takes them from its input instead of asking for a patch
// (a Version marker and a TemporalChangeVersion upsert in every run). Each level
// includes the ones below it; a new run-wide change adds a level and moves
// CurrentCode. Levels are never reused or renumbered. Runs without a level
// (started before levels, and every committed history up to them) ask for
// changeEmailOutbox and changeLeanHistory as patches; they, and only they, list
// those changes (or older ones) in the TemporalChangeVersion search attribute:
// that is how to find them. Runs with a level (the Code of their input) have
// every change of their level and list none of them.
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
)

// CurrentCode is the code level of this code: every starter of a case (the
// API's open, continue-as-new) sets CaseInput.Code to it. Workers must be
// deployed before the starters that start runs at a new level.
const CurrentCode = codeDeadlineNotWarning
