package deploy

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The namespace denies everything, then allows each workload exactly the
// connections it makes: a broader rule (any egress for the API, the worker reachable
// from anywhere, a forgotten default deny) changes one of these lists.
func TestSecurityNetworkPoliciesAllowOnlyWhatEachWorkloadNeeds(t *testing.T) {
	policies := documents(t, "k8s/networkpolicies.yaml")
	var defaultDeny bool
	for _, p := range policies {
		spec := dig(p, "spec")
		if len(dig(spec, "podSelector").(map[string]any)) == 0 && dig(spec, "ingress") == nil && dig(spec, "egress") == nil {
			types := dig(spec, "policyTypes").([]any)
			defaultDeny = defaultDeny || (slices.Contains(types, any("Ingress")) && slices.Contains(types, any("Egress")))
		}
	}
	assert.True(t, defaultDeny, "a NetworkPolicy selecting every pod denies all ingress and egress")

	const (
		dns      = "ns kubernetes.io/metadata.name=kube-system, pods k8s-app=kube-dns"
		temporal = "ns kubernetes.io/metadata.name=temporal, pods app.kubernetes.io/component=frontend,app.kubernetes.io/name=temporal"
		postgres = "cidr 192.0.2.10/32"
		public   = "cidr 0.0.0.0/0 except 10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,169.254.0.0/16,127.0.0.0/8"
		monitor  = "ns kubernetes.io/metadata.name=monitoring"
	)
	dnsRules := []string{"UDP/53 " + dns, "TCP/53 " + dns}
	want := map[string]struct{ ingress, egress []string }{
		"tierflow-api": {
			ingress: []string{"TCP/8080 any", "TCP/9091 " + monitor},
			egress:  append([]string{"TCP/7233 " + temporal, "TCP/5432 " + postgres}, dnsRules...),
		},
		"tierflow-worker": {
			ingress: []string{"TCP/9090 " + monitor},
			egress:  append([]string{"TCP/7233 " + temporal, "TCP/5432 " + postgres, "TCP/443 " + public}, dnsRules...),
		},
		"tierflow-register-search-attributes": {
			egress: append([]string{"TCP/7233 " + temporal}, dnsRules...),
		},
	}
	ws := workloads(t)
	require.Len(t, ws, len(want))
	for _, w := range ws {
		labels, _ := dig(w.podTemplate, "metadata", "labels").(map[string]any)
		expected, ok := want[w.name]
		require.True(t, ok, "unexpected workload %s", w.name)
		assert.ElementsMatch(t, expected.ingress, allowed(t, policies, labels, "Ingress"), "%s: allowed ingress", w.name)
		assert.ElementsMatch(t, expected.egress, allowed(t, policies, labels, "Egress"), "%s: allowed egress", w.name)
	}
}

// allowed lists, as "PROTO/port peer", the connections the policies selecting a pod
// with these labels allow in one direction ("*" for every port, "any" for any peer).
func allowed(t *testing.T, policies []map[string]any, labels map[string]any, direction string) []string {
	t.Helper()
	rulesKey, peersKey := "ingress", "from"
	if direction == "Egress" {
		rulesKey, peersKey = "egress", "to"
	}
	var out []string
	for _, p := range policies {
		spec := dig(p, "spec")
		types, _ := dig(spec, "policyTypes").([]any)
		if !slices.Contains(types, any(direction)) || !selects(t, dig(spec, "podSelector"), labels) {
			continue
		}
		rules, _ := dig(spec, rulesKey).([]any)
		for _, rule := range rules {
			ports := []string{"*"}
			if list, ok := dig(rule, "ports").([]any); ok {
				ports = nil
				for _, port := range list {
					ports = append(ports, fmt.Sprintf("%v/%v", dig(port, "protocol"), dig(port, "port")))
				}
			}
			peers := []string{"any"}
			if list, ok := rule.(map[string]any)[peersKey].([]any); ok {
				peers = nil
				for _, peer := range list {
					peers = append(peers, describePeer(peer.(map[string]any)))
				}
			}
			for _, port := range ports {
				for _, peer := range peers {
					out = append(out, port+" "+peer)
				}
			}
		}
	}
	return out
}

// selects reports whether a label selector (matchLabels, matchExpressions with In)
// matches labels.
func selects(t *testing.T, selector any, labels map[string]any) bool {
	t.Helper()
	for k, v := range selectorLabels(selector) {
		if labels[k] != v {
			return false
		}
	}
	exprs, _ := dig(selector, "matchExpressions").([]any)
	for _, e := range exprs {
		require.Equal(t, "In", dig(e, "operator"), "only In expressions are understood here")
		if !slices.Contains(dig(e, "values").([]any), labels[dig(e, "key").(string)]) {
			return false
		}
	}
	return true
}

func selectorLabels(selector any) map[string]any {
	m, _ := dig(selector, "matchLabels").(map[string]any)
	return m
}

func describePeer(peer map[string]any) string {
	if block, ok := peer["ipBlock"]; ok {
		s := "cidr " + dig(block, "cidr").(string)
		if except, ok := dig(block, "except").([]any); ok {
			var list []string
			for _, e := range except {
				list = append(list, e.(string))
			}
			s += " except " + strings.Join(list, ",")
		}
		return s
	}
	var parts []string
	if ns, ok := peer["namespaceSelector"]; ok {
		parts = append(parts, "ns "+joinLabels(selectorLabels(ns)))
	}
	if pods, ok := peer["podSelector"]; ok {
		parts = append(parts, "pods "+joinLabels(selectorLabels(pods)))
	}
	return strings.Join(parts, ", ")
}

func joinLabels(labels map[string]any) string {
	var out []string
	for k, v := range labels {
		out = append(out, fmt.Sprintf("%s=%v", k, v))
	}
	sort.Strings(out)
	if len(out) == 0 {
		return "(all)"
	}
	return strings.Join(out, ",")
}

// workload is a Deployment or Job of the kustomization.
type workload struct {
	kind, name  string
	podTemplate map[string]any
	pod         map[string]any // the pod template's spec
}

// workloads returns the Deployments and Jobs kustomize applies.
func workloads(t *testing.T) []workload {
	t.Helper()
	var out []workload
	for _, r := range dig(documents(t, "kustomization.yaml")[0], "resources").([]any) {
		for _, doc := range documents(t, r.(string)) {
			if kind := doc["kind"]; kind == "Deployment" || kind == "Job" {
				tmpl := dig(doc, "spec", "template").(map[string]any)
				out = append(out, workload{kind: kind.(string), name: dig(doc, "metadata", "name").(string),
					podTemplate: tmpl, pod: dig(tmpl, "spec").(map[string]any)})
			}
		}
	}
	return out
}

func podContainers(pod map[string]any) []any {
	containers, _ := dig(pod, "containers").([]any)
	initContainers, _ := pod["initContainers"].([]any)
	return append(containers, initContainers...)
}

// containerEnv returns a container's literal env values.
func containerEnv(container any) map[string]any {
	out := map[string]any{}
	list, _ := container.(map[string]any)["env"].([]any)
	for _, e := range list {
		if v, ok := e.(map[string]any)["value"]; ok {
			out[e.(map[string]any)["name"].(string)] = v
		}
	}
	return out
}

// secretRefs returns the Secrets a pod reads: envFrom, env valueFrom and volumes.
func secretRefs(pod map[string]any) []string {
	var out []string
	add := func(name any) {
		if s, ok := name.(string); ok && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, c := range podContainers(pod) {
		envFrom, _ := c.(map[string]any)["envFrom"].([]any)
		for _, e := range envFrom {
			add(dig(e, "secretRef", "name"))
		}
		env, _ := c.(map[string]any)["env"].([]any)
		for _, e := range env {
			add(dig(e, "valueFrom", "secretKeyRef", "name"))
		}
	}
	volumes, _ := pod["volumes"].([]any)
	for _, v := range volumes {
		add(dig(v, "secret", "secretName"))
	}
	return out
}

func composeServices(t *testing.T) map[string]any {
	t.Helper()
	return dig(documents(t, "compose.yaml")[0], "services").(map[string]any)
}
