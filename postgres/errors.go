package postgres

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tierflow/tierflow"
)

// SQLSTATE codes the store tells apart (PostgreSQL Appendix A).
const (
	sqlstateUniqueViolation     = "23505"
	sqlstateCheckViolation      = "23514"
	sqlstateForeignKeyViolation = "23503"
	sqlstateNotNullViolation    = "23502"
	sqlstateInvalidText         = "22P02"
	sqlstateSerialization       = "40001"
	sqlstateDeadlock            = "40P01"
	sqlstateLockNotAvailable    = "55P03"
	sqlstateQueryCanceled       = "57014"
)

// Class prefixes: 22 data exception, 08 connection exception, 53 insufficient
// resources, 57 operator intervention (shutdown, cannot connect now).
const (
	classDataException = "22"
	classConnection    = "08"
	classResources     = "53"
	classOperator      = "57"
)

// mapError turns a pgx/pgconn error into a *tierflow.Error with a code, keeping the
// original as the cause (for logs). Messages are fixed texts, safe to show: they
// name no constraint, table, column, SQL or data (the cause, logged server-side with
// the request id, does).
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var domainErr *tierflow.Error
	if errors.As(err, &domainErr) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return mapPgError(pgErr, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		pgconn.Timeout(err) || pgconn.SafeToRetry(err) || isConnectionError(err) {
		return &tierflow.Error{Code: tierflow.CodeUnavailable, Message: "database unavailable", Err: err}
	}
	return &tierflow.Error{Code: tierflow.CodeInternal, Message: "database error", Err: err}
}

func mapPgError(pgErr *pgconn.PgError, err error) error {
	code := pgErr.Code
	switch {
	case code == sqlstateUniqueViolation:
		return &tierflow.Error{Code: tierflow.CodeConflict, Message: "conflicts with an existing record", Err: err}
	case code == sqlstateCheckViolation:
		return &tierflow.Error{Code: tierflow.CodeInvalid, Message: "value refused by the database", Err: err}
	case code == sqlstateForeignKeyViolation:
		return &tierflow.Error{Code: tierflow.CodeInvalid, Message: "refers to a record that does not exist", Err: err}
	case code == sqlstateNotNullViolation:
		return &tierflow.Error{Code: tierflow.CodeInvalid, Message: "missing required value", Err: err}
	case code == sqlstateInvalidText || strings.HasPrefix(code, classDataException):
		return &tierflow.Error{Code: tierflow.CodeInvalid, Message: "malformed value refused by the database", Err: err}
	case code == sqlstateSerialization || code == sqlstateDeadlock || code == sqlstateLockNotAvailable ||
		code == sqlstateQueryCanceled:
		return &tierflow.Error{Code: tierflow.CodeUnavailable, Message: "database busy, retry", Err: err}
	case strings.HasPrefix(code, classConnection) || strings.HasPrefix(code, classResources) ||
		strings.HasPrefix(code, classOperator):
		return &tierflow.Error{Code: tierflow.CodeUnavailable, Message: "database unavailable", Err: err}
	}
	return &tierflow.Error{Code: tierflow.CodeInternal, Message: "database error", Err: err}
}

func isConnectionError(err error) bool {
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr)
}
