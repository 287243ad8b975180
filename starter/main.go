// Command tierflow is the command-line client of the Tierflow API, for CRM
// integrators, supervisors and operators: open cases (one, from a file, or a bulk
// JSON-lines import), take decisions, relay customer events, read cases,
// timelines, lists and KPIs, simulate a candidate policy on past cases, and
// listen to webhooks.
//
//	tierflow [--api URL] [--token TOKEN] <command> [flags]
//
// The command tree is built with cobra (cli.go): one file per command, consistent
// help (help.go), shell completion ("tierflow completion bash|zsh|fish",
// completion.go) and a Markdown reference in docs/cli, regenerated with
// "go generate ./starter" (docs.go). The API address and token default to
// $TIERFLOW_API (else http://localhost:8080) and $TIERFLOW_TOKEN. Exit status:
// 0 success, 1 the API or the network failed, 2 the command line was wrong.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
