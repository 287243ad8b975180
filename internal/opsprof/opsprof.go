// Package opsprof serves Go's runtime profiles (net/http/pprof) on a process's
// ops listener, the worker's and the API's metrics address, when TIERFLOW_PPROF
// asks for them.
//
// They are off by default: a CPU profile costs a few percent while it runs, and
// the profiles show the process's code paths and command line. So they are
// served only on the ops address (TIERFLOW_METRICS_ADDR), which is not public,
// and only when someone asked (the bench's -pprof).
package opsprof

import (
	"net/http"
	"net/http/pprof"
)

// Handle adds the profiles under /debug/pprof/ to mux. They are registered on mux
// explicitly: no Tierflow process serves http.DefaultServeMux, where
// net/http/pprof registers itself too.
func Handle(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", pprof.Index) // and every named profile: heap, goroutine, allocs, ...
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}

// Wrap is next with the profiles added in front of it.
func Wrap(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", next)
	Handle(mux)
	return mux
}
