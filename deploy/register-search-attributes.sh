#!/usr/bin/env bash
# Registers Tierflow's custom search attributes (and, if missing, the namespace) on a
# Temporal cluster. Safe to run again: creating an attribute that exists with the same
# type succeeds; one that exists with another type fails the script (fix it by hand).
#
# Settings (environment):
#   TEMPORAL_ADDRESS     frontend host:port (default localhost:7233)
#   TEMPORAL_NAMESPACE   namespace of the cases (default default)
#   NAMESPACE_RETENTION  retention of closed workflows when the namespace is created (default 30d)
#   TEMPORAL_CLI         the temporal CLI binary (default temporal, as in temporalio/admin-tools)
#   WAIT_SECONDS         how long to wait for the cluster to be healthy (default 300)
#
# The list below must equal workflows.SearchAttributeTypes (workflows/names.go);
# deploy/deploy_test.go fails when they differ.
set -euo pipefail

TEMPORAL_CLI="${TEMPORAL_CLI:-temporal}"
export TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-localhost:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${NAMESPACE_RETENTION:-30d}"
WAIT_SECONDS="${WAIT_SECONDS:-300}"

SEARCH_ATTRIBUTES=(
  CaseTier=Int
  CaseStatus=Keyword
  CasePriority=Keyword
  CaseDepartment=Keyword
  CaseSource=Keyword
  CaseCategory=Keyword
  CaseAssignee=Keyword
  SlaBreached=Bool
  CloseTargetBreached=Bool
  CloseTargetAt=Datetime
  NextDeadline=Datetime
)

echo "waiting for Temporal at ${TEMPORAL_ADDRESS} (up to ${WAIT_SECONDS}s)"
deadline=$((SECONDS + WAIT_SECONDS))
until "$TEMPORAL_CLI" operator cluster health >/dev/null 2>&1; do
  if ((SECONDS >= deadline)); then
    echo "Temporal at ${TEMPORAL_ADDRESS} is not healthy after ${WAIT_SECONDS}s" >&2
    exit 1
  fi
  sleep 2
done

if ! "$TEMPORAL_CLI" operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "creating namespace ${NAMESPACE} (retention ${RETENTION})"
  "$TEMPORAL_CLI" operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION"
fi

for attribute in "${SEARCH_ATTRIBUTES[@]}"; do
  name="${attribute%%=*}"
  type="${attribute#*=}"
  echo "search attribute ${name} (${type}) on ${NAMESPACE}"
  # A namespace just created may take a moment to be visible to every frontend.
  for attempt in 1 2 3 4 5; do
    if "$TEMPORAL_CLI" operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type "$type"; then
      break
    fi
    if ((attempt == 5)); then
      echo "could not register ${name} as ${type} on ${NAMESPACE}" >&2
      exit 1
    fi
    sleep 2
  done
done
echo "search attributes registered on ${NAMESPACE}"
