// Command tierflow is the command-line client of the Tierflow API, for CRM
// integrators, supervisors and operators: open cases (one, from a file, or a bulk
// JSON-lines import), take decisions, relay customer events, and read cases,
// timelines, lists and KPIs.
//
//	tierflow [--api URL] [--token TOKEN] <command> [flags]
//
// The API address and token default to $TIERFLOW_API (else http://localhost:8080)
// and $TIERFLOW_TOKEN. Exit status: 0 success, 1 the API or the network failed,
// 2 the command line was wrong.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
