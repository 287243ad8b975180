package drill

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// PatchMarker is logged by the patched build's new branch.
const PatchMarker = "drill deploy: patched build"

// patchAnchor is where the patch goes: the start of the case workflow's run.
const patchAnchor = "func (w *caseWorkflow) run(ctx workflow.Context, opening *transition) (tierflow.CaseView, error) {\n"

// PrepareDeploy builds the worker of drill 7 from a copy of the committed module
// (git archive HEAD, into dir) whose case workflow has a patched change: a new
// GetVersion branch at the start of its run. It returns the binary's path.
func PrepareDeploy(ctx context.Context, root, dir string) (string, error) {
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	archive := exec.CommandContext(ctx, "sh", "-c", "git -C \"$1\" archive HEAD | tar -x -C \"$2\"", "sh", root, src)
	if out, err := archive.CombinedOutput(); err != nil {
		return "", fmt.Errorf("copy the module: %w\n%s", err, out)
	}
	path := filepath.Join(src, "workflows", "case.go")
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if !strings.Contains(string(b), patchAnchor) {
		return "", fmt.Errorf("%s: the patch anchor %q is gone; update internal/drill/deploy.go", path, strings.TrimSpace(patchAnchor))
	}
	patched := strings.Replace(string(b), patchAnchor, patchAnchor+
		"\tif workflow.GetVersion(ctx, \"drill-deploy\", workflow.DefaultVersion, 1) == 1 {\n"+
		"\t\tworkflow.GetLogger(ctx).Info(\""+PatchMarker+"\")\n\t}\n", 1)
	if err := os.WriteFile(path, []byte(patched), 0o644); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "worker-patched")
	build := exec.CommandContext(ctx, "go", "build", "-o", out, "./worker")
	build.Dir = src
	if b, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the patched worker: %w\n%s", err, b)
	}
	return out, nil
}

// installWorker replaces the topology's worker binary (the next start of a worker
// runs it; a running worker keeps its old one).
func installWorker(e *Env, bin string) error {
	dst := filepath.Join(e.BuildDir, "worker")
	tmp := dst + ".new"
	in, err := os.Open(bin)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// countPatched counts the patched branch's log lines in the workers' logs.
func countPatched(e *Env, offsets []int64) int {
	n := 0
	for i, w := range e.Topo.Workers {
		b, err := os.ReadFile(w.LogFile())
		if err != nil {
			continue
		}
		if i < len(offsets) && offsets[i] <= int64(len(b)) {
			b = b[offsets[i]:]
		}
		n += strings.Count(string(b), PatchMarker)
	}
	return n
}
