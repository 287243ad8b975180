package activities

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/tierflow/tierflow"
)

// A bulk policy migration (workflows/policy_migration.go) sends each case the
// migrate_policy decision through MigrateCase. The decision names its actor, so
// whoever may start a workflow could otherwise make the worker act as any
// supervisor: the API, which authenticated that supervisor, authorizes each
// case's decision (AuthorizeMigration, an HMAC under a key derived from the
// survey keys the API and the worker share), and MigrateCase sends nothing that
// its authorization does not cover. An authorization binds the decision to its
// case, to the migration's workflow (PolicyMigrationID of its migration id: the
// only workflow whose activity may send it) and to an expiry
// (MigrationAuthorizationTTL after submit), so one copied from a history cannot
// be replayed under another workflow id, nor later under the same.

// MigrationAuthorizationTTL is how long after submit a migration's decisions may
// be sent: far more than a migration takes (500 cases, 8 at a time, each
// answering within seconds); a case still unsent then (the worker was down) is
// refused as forbidden, and the migration must be posted again.
const MigrationAuthorizationTTL = time.Hour

// MigrationActivities send a bulk migration's decisions. Register a value with
// the worker; the workflow refers to the methods through a nil
// *MigrationActivities.
type MigrationActivities struct {
	// Cases sends a case a decision as the API does (the worker's signed decide
	// Update).
	Cases CaseDecider
	// SurveyKeys verify the API's authorizations, newest first (all verify).
	SurveyKeys [][]byte
}

// CaseDecider sends one case a decision and waits for its outcome.
type CaseDecider interface {
	// DecideCase applies d to the case (once per d.DecisionID, however often it
	// is called). It answers nil once applied, a *tierflow.Error with the code
	// the case refused it with (CodeNotFound when no case runs), or any other
	// error when the case could not be reached (retried).
	DecideCase(ctx context.Context, caseID string, d tierflow.Decision) error
}

// MigrateCaseInput is one case of a migration: its decision and the API's
// authorization of it, valid until AuthorizedUntil.
type MigrateCaseInput struct {
	CaseID          string            `json:"case_id"`
	Decision        tierflow.Decision `json:"decision"`
	Authorization   string            `json:"authorization"`
	AuthorizedUntil time.Time         `json:"authorized_until"`
}

// MigrationGrant is what an authorization binds a decision to: the case, the
// migration workflow's id that alone may send it, and when it expires.
type MigrationGrant struct {
	CaseID     string
	WorkflowID string
	Until      time.Time
}

// MigrateCaseResult is a case's outcome: migrated (Refusal nil) or refused.
type MigrateCaseResult struct {
	Refusal *CaseRefusal `json:"refusal,omitempty"`
}

// CaseRefusal is why a case refused its decision: the code and the message the
// case answered (the API turns them into the problem it would have answered).
type CaseRefusal struct {
	Code    tierflow.Code `json:"code"`
	Message string        `json:"message"`
}

// MigrateCase sends the case its migration decision. A refusal is an outcome,
// never retried; a case that cannot be reached fails the attempt, and
// Temporal's retry policy tries again (the decision id makes a repeat harmless).
// A decision whose authorization is not for this case, this workflow and this
// decision, or has expired, is refused as forbidden (an outcome: not retried).
func (m *MigrationActivities) MigrateCase(ctx context.Context, in MigrateCaseInput) (MigrateCaseResult, error) {
	grant := MigrationGrant{CaseID: in.CaseID, WorkflowID: activity.GetInfo(ctx).WorkflowExecution.ID, Until: in.AuthorizedUntil}
	if in.Decision.Action != tierflow.ActionMigratePolicy || !verifyMigration(m.SurveyKeys, grant, in.Decision, in.Authorization) {
		activity.GetLogger(ctx).Error("a migration decision without a valid authorization was refused", "case_id", in.CaseID,
			"decision_id", in.Decision.DecisionID)
		return MigrateCaseResult{Refusal: &CaseRefusal{Code: tierflow.CodeForbidden,
			Message: "the migration did not come from the Tierflow API: start it with POST /v1/policies/migrate"}}, nil
	}
	if !time.Now().Before(in.AuthorizedUntil) {
		activity.GetLogger(ctx).Warn("a migration decision whose authorization expired was refused", "case_id", in.CaseID,
			"decision_id", in.Decision.DecisionID, "authorized_until", in.AuthorizedUntil)
		return MigrateCaseResult{Refusal: &CaseRefusal{Code: tierflow.CodeForbidden, Message: fmt.Sprintf(
			"the migration's authorization expired (%s after it was posted): post it again under another migration_id",
			MigrationAuthorizationTTL)}}, nil
	}
	err := m.Cases.DecideCase(ctx, in.CaseID, in.Decision)
	var refused *tierflow.Error
	switch {
	case err == nil:
		return MigrateCaseResult{}, nil
	case errors.As(err, &refused) && refused.Code != tierflow.CodeUnavailable && refused.Code != tierflow.CodeInternal:
		return MigrateCaseResult{Refusal: &CaseRefusal{Code: refused.Code, Message: refused.Message}}, nil
	default:
		return MigrateCaseResult{}, fmt.Errorf("migrate case %s: %w", in.CaseID, err)
	}
}

// migrationKeyLabel separates the migration key from the survey key it is
// derived from (and from the update key, internal/updateauth). v2: the message
// binds the workflow id and the expiry (a v1 authorization verifies no more).
const migrationKeyLabel = "tierflow/policy-migration/v2"

// AuthorizeMigration is the API's authorization of the decision d under grant
// (its case, its migration's workflow id, its expiry), under the first (newest)
// of surveyKeys.
func AuthorizeMigration(surveyKeys [][]byte, grant MigrationGrant, d tierflow.Decision) (string, error) {
	if len(surveyKeys) == 0 || len(surveyKeys[0]) == 0 {
		return "", errors.New("authorize migration: no survey key")
	}
	msg, err := migrationMessage(grant, d)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(migrationMAC(surveyKeys[0], msg)), nil
}

// verifyMigration reports whether auth authorizes d under grant with any of
// surveyKeys (rotation); it does not check the expiry. Every key is tried, so
// the time taken does not tell which one matched.
func verifyMigration(surveyKeys [][]byte, grant MigrationGrant, d tierflow.Decision, auth string) bool {
	got, err := base64.RawURLEncoding.DecodeString(auth)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	msg, err := migrationMessage(grant, d)
	if err != nil {
		return false
	}
	valid := false
	for _, k := range surveyKeys {
		valid = len(k) > 0 && hmac.Equal(migrationMAC(k, msg), got) || valid
	}
	return valid
}

func migrationMAC(surveyKey, msg []byte) []byte {
	derive := hmac.New(sha256.New, surveyKey)
	derive.Write([]byte(migrationKeyLabel))
	m := hmac.New(sha256.New, derive.Sum(nil))
	m.Write(msg)
	return m.Sum(nil)
}

// migrationMessage is what an authorization covers: the case id and the
// workflow id, each length prefixed, the expiry in Unix seconds, then the
// decision as canonical JSON (encoding/json, read back as
// generic values and written again: keys sorted, text that survives the trip
// through the workflow's history unchanged). The API and the worker must
// therefore marshal tierflow.Decision alike (deploy the worker first when it
// gains a field).
func migrationMessage(grant MigrationGrant, d tierflow.Decision) ([]byte, error) {
	first, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("authorize migration: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(first))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("authorize migration: %w", err)
	}
	canonical, err := json.Marshal(generic)
	if err != nil {
		return nil, fmt.Errorf("authorize migration: %w", err)
	}
	var msg []byte
	for _, field := range []string{grant.CaseID, grant.WorkflowID} {
		msg = strconv.AppendInt(msg, int64(len(field)), 10)
		msg = append(msg, ':')
		msg = append(msg, field...)
		msg = append(msg, '\n')
	}
	msg = strconv.AppendInt(msg, grant.Until.Unix(), 10)
	msg = append(msg, '\n')
	return append(msg, canonical...), nil
}
