package stack

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tierflow/tierflow/codec"
	"github.com/tierflow/tierflow/internal/secrets"
	"github.com/tierflow/tierflow/internal/supervise"
	"github.com/tierflow/tierflow/internal/temporalfull"
)

// uiStartWait bounds the UI server's start.
const uiStartWait = time.Minute

// NewCodecKeys returns a TIERFLOW_CODEC_KEYS value holding one fresh random
// AES-256 key with the ID <prefix>-<unix time>.
func NewCodecKeys(prefix string) (string, error) {
	key, err := secrets.RandomKey(codec.KeySize)
	if err != nil {
		return "", err
	}
	return prefix + "-" + strconv.FormatInt(time.Now().Unix(), 10) + ":" + key, nil
}

// startUI starts the pinned standalone Temporal UI server on port, in front of the
// stack's Temporal server and wired to the API's codec endpoint; its configuration
// and log live in a temporary folder removed by Stop.
func (s *Stack) startUI(ctx context.Context, port string) error {
	bin, err := temporalfull.FindUIServer(filepath.Join(s.Root, "bin"))
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "tierflow-stack-ui-")
	if err != nil {
		return fmt.Errorf("make the UI server's folder: %w", err)
	}
	s.uiDir = dir
	p, _ := strconv.Atoi(port)
	cfg := temporalfull.UIConfig{TemporalAddress: s.server.HostPort(), Port: p,
		DefaultNamespace: s.server.Namespace(), CodecEndpoint: s.CodecURL}
	if err := temporalfull.WriteUIConfig(dir, cfg); err != nil {
		return err
	}
	ready := s.UIURL + "/"
	s.UI = supervise.New(supervise.Spec{
		Name: "temporal-ui", Path: bin, Args: temporalfull.UIArgs(dir), Env: temporalfull.ServerEnv(),
		LogFile: filepath.Join(dir, "temporal-ui.log"), Grace: 10 * time.Second,
		Ready: supervise.HTTPReady(ready),
	})
	startCtx, cancel := context.WithTimeout(ctx, uiStartWait)
	defer cancel()
	if err := s.UI.Start(startCtx); err != nil {
		return fmt.Errorf("start the Temporal UI server: %w", err)
	}
	return nil
}

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}
