package temporalfull

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"sigs.k8s.io/yaml"
)

// ConfigEnv is the environment name the server is started with (--env): it reads
// config/<ConfigEnv>.yaml under its root.
const ConfigEnv = "production"

// Ports of the server's four services (gRPC and membership each), the frontend's
// HTTP API and the Prometheus metrics, all on 127.0.0.1.
type Ports struct {
	Frontend, FrontendMembership, FrontendHTTP int
	History, HistoryMembership                 int
	Matching, MatchingMembership               int
	Worker, WorkerMembership                   int
	Metrics                                    int
}

// MaxMembershipPort: the services' membership ports are stored in a smallint
// column on PostgreSQL, so they must stay below the kernel's ephemeral range
// (32768 and up): a "free port" from the kernel does not fit.
const MaxMembershipPort = 32767

// DefaultPorts is the layout of the server's own sample configurations (frontend
// on 7233), with the metrics on 8000.
func DefaultPorts() Ports {
	return Ports{
		Frontend: 7233, FrontendMembership: 6933, FrontendHTTP: 7243,
		History: 7234, HistoryMembership: 6934,
		Matching: 7235, MatchingMembership: 6935,
		Worker: 7239, WorkerMembership: 6939,
		Metrics: 8000,
	}
}

// All lists every port, for checks that they are free (or closed after a stop).
func (p Ports) All() []int {
	return []int{p.Frontend, p.FrontendMembership, p.FrontendHTTP, p.History, p.HistoryMembership,
		p.Matching, p.MatchingMembership, p.Worker, p.WorkerMembership, p.Metrics}
}

// FrontendAddress is the gRPC address clients dial.
func (p Ports) FrontendAddress() string { return loopback(p.Frontend) }

// Postgres says where the server's two databases are.
type Postgres struct {
	Host     string // 127.0.0.1 when empty
	Port     int
	User     string
	Password string
	// Database and VisibilityDatabase default to "temporal" and "temporal_visibility".
	Database, VisibilityDatabase string
}

func (pg Postgres) withDefaults() Postgres {
	if pg.Host == "" {
		pg.Host = "127.0.0.1"
	}
	if pg.Database == "" {
		pg.Database = "temporal"
	}
	if pg.VisibilityDatabase == "" {
		pg.VisibilityDatabase = "temporal_visibility"
	}
	return pg
}

// Address is host:port.
func (pg Postgres) Address() string {
	pg = pg.withDefaults()
	return net.JoinHostPort(pg.Host, strconv.Itoa(pg.Port))
}

// ServerConfig is what the runner decides about the server; Render turns it into
// the server's YAML.
type ServerConfig struct {
	Ports    Ports
	Postgres Postgres
	// HistoryShards is fixed when the schema is first used (default 4: plenty for
	// one machine; production clusters use 512 or more).
	HistoryShards int
	// LogLevel of the server's JSON log (default "warn").
	LogLevel string
	// DynamicConfigFile is the path of the dynamic configuration (see DynamicConfig).
	DynamicConfigFile string
}

// The subset of the server's configuration we set, in its YAML names.
type (
	serverYAML struct {
		Log                 logYAML            `json:"log"`
		Persistence         persistenceYAML    `json:"persistence"`
		Global              globalYAML         `json:"global"`
		Services            map[string]service `json:"services"`
		ClusterMetadata     clusterMetadata    `json:"clusterMetadata"`
		DCRedirectionPolicy map[string]string  `json:"dcRedirectionPolicy"`
		Archival            archival           `json:"archival"`
		NamespaceDefaults   namespaceDefaults  `json:"namespaceDefaults"`
		DynamicConfigClient dynamicConfig      `json:"dynamicConfigClient"`
	}
	logYAML struct {
		Stdout bool   `json:"stdout"`
		Level  string `json:"level"`
	}
	persistenceYAML struct {
		DefaultStore     string               `json:"defaultStore"`
		VisibilityStore  string               `json:"visibilityStore"`
		NumHistoryShards int                  `json:"numHistoryShards"`
		DataStores       map[string]dataStore `json:"datastores"`
	}
	dataStore struct {
		SQL sqlStore `json:"sql"`
	}
	sqlStore struct {
		PluginName      string `json:"pluginName"`
		DatabaseName    string `json:"databaseName"`
		ConnectAddr     string `json:"connectAddr"`
		ConnectProtocol string `json:"connectProtocol"`
		User            string `json:"user"`
		Password        string `json:"password"`
		MaxConns        int    `json:"maxConns"`
		MaxIdleConns    int    `json:"maxIdleConns"`
		MaxConnLifetime string `json:"maxConnLifetime"`
	}
	globalYAML struct {
		Membership struct {
			MaxJoinDuration  string `json:"maxJoinDuration"`
			BroadcastAddress string `json:"broadcastAddress"`
		} `json:"membership"`
		Metrics struct {
			Prometheus struct {
				Framework     string `json:"framework"`
				TimerType     string `json:"timerType"`
				ListenAddress string `json:"listenAddress"`
			} `json:"prometheus"`
		} `json:"metrics"`
	}
	service struct {
		RPC struct {
			GRPCPort        int  `json:"grpcPort"`
			MembershipPort  int  `json:"membershipPort"`
			HTTPPort        int  `json:"httpPort,omitempty"`
			BindOnLocalHost bool `json:"bindOnLocalHost"`
		} `json:"rpc"`
	}
	clusterMetadata struct {
		EnableGlobalNamespace    bool                   `json:"enableGlobalNamespace"`
		FailoverVersionIncrement int                    `json:"failoverVersionIncrement"`
		MasterClusterName        string                 `json:"masterClusterName"`
		CurrentClusterName       string                 `json:"currentClusterName"`
		ClusterInformation       map[string]clusterInfo `json:"clusterInformation"`
	}
	clusterInfo struct {
		Enabled                bool   `json:"enabled"`
		InitialFailoverVersion int    `json:"initialFailoverVersion"`
		RPCName                string `json:"rpcName"`
		RPCAddress             string `json:"rpcAddress"`
		HTTPAddress            string `json:"httpAddress"`
	}
	archival struct {
		History    stateOnly `json:"history"`
		Visibility stateOnly `json:"visibility"`
	}
	namespaceDefaults struct {
		Archival archival `json:"archival"`
	}
	stateOnly struct {
		State string `json:"state"`
	}
	dynamicConfig struct {
		Filepath     string `json:"filepath"`
		PollInterval string `json:"pollInterval"`
	}
)

// ClusterName is the name of the single cluster.
const ClusterName = "active"

// Render returns the server's configuration file.
func (c ServerConfig) Render() ([]byte, error) {
	if c.Postgres.Port == 0 || c.Ports.Frontend == 0 {
		return nil, fmt.Errorf("server config: the PostgreSQL port and the frontend port are required")
	}
	if c.DynamicConfigFile == "" {
		return nil, fmt.Errorf("server config: the dynamic config file is required")
	}
	for _, p := range []int{c.Ports.FrontendMembership, c.Ports.HistoryMembership, c.Ports.MatchingMembership, c.Ports.WorkerMembership} {
		if p <= 0 || p > MaxMembershipPort {
			return nil, fmt.Errorf("server config: membership port %d out of range 1-%d "+
				"(the PostgreSQL schema's cluster_membership.rpc_port is a smallint; the server dies at start otherwise)", p, MaxMembershipPort)
		}
	}
	pg := c.Postgres.withDefaults()
	shards := c.HistoryShards
	if shards == 0 {
		shards = 4
	}
	level := c.LogLevel
	if level == "" {
		level = "warn"
	}
	store := func(db string, conns int) dataStore {
		return dataStore{SQL: sqlStore{
			PluginName: "postgres12", DatabaseName: db, ConnectAddr: pg.Address(), ConnectProtocol: "tcp",
			User: pg.User, Password: pg.Password, MaxConns: conns, MaxIdleConns: conns, MaxConnLifetime: "1h",
		}}
	}
	y := serverYAML{
		Log: logYAML{Stdout: true, Level: level},
		Persistence: persistenceYAML{
			DefaultStore: "postgres-default", VisibilityStore: "postgres-visibility", NumHistoryShards: shards,
			DataStores: map[string]dataStore{
				"postgres-default":    store(pg.Database, 20),
				"postgres-visibility": store(pg.VisibilityDatabase, 10),
			},
		},
		Services: map[string]service{
			"frontend": svc(c.Ports.Frontend, c.Ports.FrontendMembership, c.Ports.FrontendHTTP),
			"history":  svc(c.Ports.History, c.Ports.HistoryMembership, 0),
			"matching": svc(c.Ports.Matching, c.Ports.MatchingMembership, 0),
			"worker":   svc(c.Ports.Worker, c.Ports.WorkerMembership, 0),
		},
		ClusterMetadata: clusterMetadata{
			FailoverVersionIncrement: 10, MasterClusterName: ClusterName, CurrentClusterName: ClusterName,
			ClusterInformation: map[string]clusterInfo{ClusterName: {
				Enabled: true, InitialFailoverVersion: 1, RPCName: "frontend",
				RPCAddress: loopback(c.Ports.Frontend), HTTPAddress: loopback(c.Ports.FrontendHTTP),
			}},
		},
		DCRedirectionPolicy: map[string]string{"policy": "noop"},
		Archival:            archival{History: stateOnly{"disabled"}, Visibility: stateOnly{"disabled"}},
		NamespaceDefaults:   namespaceDefaults{Archival: archival{History: stateOnly{"disabled"}, Visibility: stateOnly{"disabled"}}},
		DynamicConfigClient: dynamicConfig{Filepath: c.DynamicConfigFile, PollInterval: "10s"},
	}
	y.Global.Membership.MaxJoinDuration = "30s"
	y.Global.Membership.BroadcastAddress = "127.0.0.1"
	if c.Ports.Metrics != 0 {
		y.Global.Metrics.Prometheus.Framework = "tally"
		y.Global.Metrics.Prometheus.TimerType = "histogram"
		y.Global.Metrics.Prometheus.ListenAddress = loopback(c.Ports.Metrics)
	}
	out, err := yaml.Marshal(y)
	if err != nil {
		return nil, fmt.Errorf("server config: %w", err)
	}
	return append([]byte("# Written by internal/temporalfull at every start: edits are overwritten.\n"), out...), nil
}

func svc(grpc, membership, http int) service {
	var s service
	s.RPC.GRPCPort, s.RPC.MembershipPort, s.RPC.HTTPPort, s.RPC.BindOnLocalHost = grpc, membership, http, true
	return s
}

// DynamicConfig is the server's dynamic configuration: search attributes added
// through the operator API are visible at once (as on the dev server), and IDs may
// be as long as the dev server allows.
const DynamicConfig = `# Written by internal/temporalfull at every start: edits are overwritten.
system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
limit.maxIDLength:
  - value: 255
# The transfer queue reads at most 20 times/s per shard by default (v1.29.1):
# opening a case (Update-with-Start) waits for its transfer tasks. With 1000 on the
# dev server (issue 10): a raw Update running one activity p50 99 -> 17 ms.
history.transferProcessorMaxPollRPS:
  - value: 1000
# The timer queue likewise: every deadline, warning and workflow-task timeout is
# a timer task (issue 10, deadlines at 19.5/s: lateness p50 373 -> 168 ms).
history.timerProcessorMaxPollRPS:
  - value: 1000
# One partition per task queue: every service runs in this one process, where 4
# partitions (the default) only make a task wait in a partition no poll is
# waiting on, forwarded to the root at most 10/s (issue 10: deadlines up to 60 s
# late on this server).
matching.numTaskqueueReadPartitions:
  - value: 1
matching.numTaskqueueWritePartitions:
  - value: 1
# A shard writes one workflow at a time by default; every timer, workflow task
# and Update of the shard's cases queues behind the others. Four at a time per
# shard stays within the default store's 20 connections (4 shards).
history.shardIOConcurrency:
  - value: 4
`

// WriteServerConfig writes <root>/config/production.yaml and the dynamic config
// next to it, for `temporal-server --root <root> --env production start`.
func WriteServerConfig(root string, c ServerConfig) error {
	dir := filepath.Join(root, "config")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("server config: %w", err)
	}
	c.DynamicConfigFile = filepath.Join(dir, "dynamicconfig.yaml")
	if err := os.WriteFile(c.DynamicConfigFile, []byte(DynamicConfig), 0o644); err != nil {
		return fmt.Errorf("dynamic config: %w", err)
	}
	b, err := c.Render()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigEnv+".yaml"), b, 0o644); err != nil {
		return fmt.Errorf("server config: %w", err)
	}
	return nil
}

// ServerArgs are the server's arguments for a configuration written under root:
// every service in one process, with no authorizer (the frontend listens on the
// loopback interface only).
func ServerArgs(root string) []string {
	return []string{"--root", root, "--config", "config", "--env", ConfigEnv, "--allow-no-auth", "start"}
}

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
