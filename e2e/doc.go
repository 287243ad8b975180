// Package e2e holds the black-box end-to-end test of the whole product. It has no
// code of its own: its test builds the worker and API mains, runs them as child
// processes against a throwaway PostgreSQL and a Temporal dev server (with its Web
// UI), and drives them the way a CRM, the staff, a customer's browser and an
// operator in the Temporal UI would:
//
//	go test -count=1 -v -run TestEndToEnd ./e2e/
//
// It needs the PostgreSQL server binaries, the Temporal CLI (make temporal-cli) and
// Chromium (apt-get install -y chromium); a missing one fails the test with how to
// install it. A full-page screenshot of the case in the Temporal UI is written to
// <repo>/testartifacts/.
package e2e
