package workflows

// CaseState is the full state of a case workflow (placeholder until the workflow lands).
type CaseState struct{}
