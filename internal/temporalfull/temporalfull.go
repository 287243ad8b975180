// Package temporalfull runs the full Temporal server (not the CLI's dev server) on
// PostgreSQL, as production does, for `make prod-local` and its fault drills: the
// server's configuration file, its two schemas (default and visibility) set up with
// the server's own SQL tool from the schema files shipped in the server module, the
// namespace and the project's search attributes registered through the API, and the
// standalone Temporal UI server in front of it.
//
// The binaries are pinned and built from the Go module proxy outside our module
// (`make prod-local-bins`), never added to go.mod: Find looks for them in bin/.
package temporalfull

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Pinned versions: the server the Temporal CLI v1.5.1 embeds, and its UI.
const (
	ServerModule    = "go.temporal.io/server"
	ServerVersion   = "v1.29.1"
	ServerPackage   = ServerModule + "/cmd/server"
	SQLToolPackage  = ServerModule + "/cmd/tools/sql"
	UIServerPackage = "github.com/temporalio/ui-server/v2/cmd/server"
	UIServerVersion = "v2.42.1"
)

// Binary names under bin/: `go install` names two of them "server", so the
// Makefile installs each into a folder of its own and renames it.
const (
	ServerBinary   = "temporal-server"
	SQLToolBinary  = "temporal-sql-tool"
	UIServerBinary = "temporal-ui-server"
)

// InstallHint says how to build the binaries.
const InstallHint = "run `make prod-local-bins` (it builds " + ServerPackage + "@" + ServerVersion + ", " +
	SQLToolPackage + "@" + ServerVersion + " and " + UIServerPackage + "@" + UIServerVersion +
	" into bin/; several minutes the first time)"

// ErrBinaryMissing is returned (wrapped) by Find when a binary is missing.
var ErrBinaryMissing = errors.New("a pinned Temporal binary is missing")

// Binaries are the paths of the three pinned programs.
type Binaries struct {
	Server, SQLTool, UIServer string
}

// Find returns the binaries in binDir, or an error naming the missing ones and how
// to build them.
func Find(binDir string) (Binaries, error) {
	b := Binaries{
		Server:   filepath.Join(binDir, ServerBinary),
		SQLTool:  filepath.Join(binDir, SQLToolBinary),
		UIServer: filepath.Join(binDir, UIServerBinary),
	}
	var missing []string
	for _, p := range []string{b.Server, b.SQLTool, b.UIServer} {
		if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return b, fmt.Errorf("%w: %v: %s", ErrBinaryMissing, missing, InstallHint)
	}
	return b, nil
}
