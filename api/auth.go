package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/tierflow/tierflow"
	"github.com/tierflow/tierflow/internal/secrets"
)

// TokenEntry is one configured API token: only its sha256 is stored.
type TokenEntry struct {
	TokenSHA256 string        `json:"token_sha256"`
	ID          string        `json:"id"`
	Name        string        `json:"name,omitempty"`
	Role        tierflow.Role `json:"role"`
	Tier        tierflow.Tier `json:"tier,omitempty"`
	Departments []string      `json:"departments,omitempty"`
	// AllowedSources scopes an integration token to the CRM sources it may open,
	// read and relay customer events for (integrations only). Without it an
	// integration reaches every source, as before scoping existed: production
	// operators should scope every integration token.
	AllowedSources []string `json:"allowed_sources,omitempty"`
}

type tokenHash = [sha256.Size]byte

type credential struct {
	hash      tokenHash
	principal tierflow.Principal
}

// Authenticator maps bearer tokens to principals. Tokens are kept as sha256 hashes and
// compared in constant time; a token is never logged.
type Authenticator struct {
	creds []credential
}

// NewAuthenticator builds an authenticator from validated entries.
func NewAuthenticator(entries []TokenEntry) *Authenticator {
	a := &Authenticator{}
	for _, e := range entries {
		var h tokenHash
		raw, _ := hex.DecodeString(e.TokenSHA256)
		copy(h[:], raw)
		tier := e.Tier
		if tier == 0 {
			tier = e.Role.DecidingTier()
		}
		a.creds = append(a.creds, credential{hash: h, principal: tierflow.Principal{
			ID: e.ID, Name: e.Name, Role: e.Role, Tier: tier, Departments: e.Departments, AllowedSources: e.AllowedSources,
		}})
	}
	return a
}

// Authenticate returns the principal of token; ok is false for an unknown token.
// Every stored hash is compared, so the time taken does not depend on which matched.
func (a *Authenticator) Authenticate(token string) (p tierflow.Principal, ok bool) {
	if token == "" {
		return tierflow.Principal{}, false
	}
	h := sha256.Sum256([]byte(token))
	for _, c := range a.creds {
		if subtle.ConstantTimeCompare(h[:], c.hash[:]) == 1 {
			p, ok = c.principal, true
		}
	}
	return p, ok
}

// HashToken returns the hex sha256 of a token, the form token files hold.
func HashToken(token string) string { return secrets.TokenSHA256(token) }

// DevTokens are the documented tokens of the dev environment (secrets.DevTokens);
// production refuses them. Each principal's ID is DevPrincipalID of its token, the
// ID of its member in the dev staff directory (postgres.DevStaff).
func DevTokens() []TokenEntry {
	dev := func(token, name string, role tierflow.Role, tier tierflow.Tier, depts ...string) TokenEntry {
		return TokenEntry{TokenSHA256: HashToken(token), ID: DevPrincipalID(token), Name: name, Role: role, Tier: tier, Departments: depts}
	}
	return []TokenEntry{
		dev("dev-integration", "Dev CRM integration", tierflow.RoleIntegration, 0),
		dev("dev-agent", "Dev frontline agent", tierflow.RoleAgent, tierflow.TierFrontline, "billing", "technical", "shipping"),
		dev("dev-specialist", "Dev specialist", tierflow.RoleSpecialist, tierflow.TierSpecialist, "billing", "technical"),
		dev("dev-supervisor", "Dev supervisor", tierflow.RoleSupervisor, tierflow.TierSupervisor),
		dev("dev-executive", "Dev executive", tierflow.RoleExecutive, tierflow.TierExecutive),
		dev("dev-viewer", "Dev viewer", tierflow.RoleViewer, 0),
	}
}

// DevPrincipalID is the principal ID of a documented dev token: dev:agent for
// dev-agent. Principal IDs land in access logs and audit events, so an ID is never
// the token itself.
func DevPrincipalID(token string) string { return "dev:" + strings.TrimPrefix(token, "dev-") }

// ParseTokens reads a JSON or YAML list of token entries and validates each.
func ParseTokens(data []byte) ([]TokenEntry, error) {
	var entries []TokenEntry
	if err := yaml.UnmarshalStrict(data, &entries); err != nil {
		return nil, fmt.Errorf("parse tokens: %w", err)
	}
	seen := map[string]bool{}
	for i, e := range entries {
		if err := e.validate(); err != nil {
			return nil, fmt.Errorf("token %d (%q): %w", i, e.ID, err)
		}
		h := strings.ToLower(e.TokenSHA256)
		if seen[h] {
			return nil, fmt.Errorf("token %d (%q): the same token_sha256 appears twice", i, e.ID)
		}
		seen[h] = true
		entries[i].TokenSHA256 = h
	}
	return entries, nil
}

// LoadTokensFile reads a token file (see ParseTokens).
func LoadTokensFile(path string) ([]TokenEntry, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read tokens file: %w", err)
	}
	return ParseTokens(data)
}

func (e TokenEntry) validate() error {
	if raw, err := hex.DecodeString(e.TokenSHA256); err != nil || len(raw) != sha256.Size {
		return fmt.Errorf("token_sha256 must be 64 hex digits (the sha256 of the token)")
	}
	if e.ID == "" {
		return fmt.Errorf("id is required")
	}
	if !e.Role.Valid() {
		return fmt.Errorf("role %q is not one of integration, agent, specialist, supervisor, executive, viewer", e.Role)
	}
	if want := e.Role.DecidingTier(); e.Tier != 0 && want != 0 && e.Tier != want {
		return fmt.Errorf("tier %d does not match role %s (tier %d)", e.Tier, e.Role, want)
	}
	if e.Role.RequiresDepartments() && len(e.Departments) == 0 {
		return fmt.Errorf("role %s needs departments: an agent or specialist serves only the departments it lists", e.Role)
	}
	for _, d := range e.Departments {
		if strings.TrimSpace(d) == "" {
			return fmt.Errorf("departments must not hold an empty name")
		}
	}
	if len(e.AllowedSources) > 0 && e.Role != tierflow.RoleIntegration {
		return fmt.Errorf("allowed_sources is only for integration tokens, not %s", e.Role)
	}
	for _, src := range e.AllowedSources {
		if !tierflow.ValidSource(src) {
			return fmt.Errorf("allowed_sources: %q is not a source (1-64 characters of A-Z a-z 0-9 . _ -)", src)
		}
	}
	return nil
}

type principalKey struct{}

// principalFrom returns the authenticated caller of a request.
func principalFrom(ctx context.Context) tierflow.Principal {
	p, _ := ctx.Value(principalKey{}).(tierflow.Principal)
	return p
}

// authorize wraps h so that only a caller with a valid bearer token holding one of
// roles reaches it: 401 without a valid token, 403 with the wrong role.
func (s *server) authorize(h http.HandlerFunc, roles ...tierflow.Role) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, found := bearerToken(r.Header.Get("Authorization"))
		p, ok := s.authenticate(w, r, token, found, `Bearer realm="tierflow"`)
		if !ok {
			return
		}
		if len(roles) > 0 && !slices.Contains(roles, p.Role) {
			s.writeError(w, r, tierflow.Errorf(tierflow.CodeForbidden, "the %s role may not do this", p.Role))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}

// authenticate resolves the principal of a request's token (found says whether the
// request carried one) and answers the failure itself: 401 with the challenges
// given, or 429. ok is false when it has answered.
func (s *server) authenticate(w http.ResponseWriter, r *http.Request, token string, found bool, challenges ...string) (p tierflow.Principal, ok bool) {
	p, err := s.credential(w, r, token, found)
	if err != nil {
		if tierflow.ErrorCode(err) == tierflow.CodeUnauthorized {
			for _, c := range challenges {
				w.Header().Add("WWW-Authenticate", c)
			}
		}
		s.writeError(w, r, err)
		return tierflow.Principal{}, false
	}
	return p, true
}

// credential is the one check of every entrance that takes an API token (the
// routes, the dev mailbox, the codec endpoint and its sign-in). Rate limits come
// first: a client address whose failed authentications emptied its bucket gets 429
// before its token is looked at (a failure spends a token, a success none), and an
// authenticated principal over its own limit gets 429 (Retry-After set on w).
func (s *server) credential(w http.ResponseWriter, r *http.Request, token string, found bool) (tierflow.Principal, error) {
	client := s.clientKey(r)
	if wait := s.limits.authFailures.wait(client, s.Now()); wait > 0 {
		return tierflow.Principal{}, s.rateLimited(w, s.limits.authFailures, wait)
	}
	p, ok := s.Auth.Authenticate(token)
	if !found || !ok {
		s.limits.authFailures.take(client, s.Now())
		return tierflow.Principal{}, tierflow.Errorf(tierflow.CodeUnauthorized, "a valid API token is required")
	}
	notePrincipal(r.Context(), p.ID)
	if err := s.throttle(w, s.limits.principal, p.ID); err != nil {
		return tierflow.Principal{}, err
	}
	return p, nil
}

// bearerToken extracts the token of an "Authorization: Bearer <token>" header; the
// scheme is case-insensitive (RFC 9110, section 11.1).
func bearerToken(header string) (token string, ok bool) {
	scheme, token, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// anyRole lists every role a caller can hold.
var anyRole = []tierflow.Role{tierflow.RoleIntegration, tierflow.RoleAgent, tierflow.RoleSpecialist,
	tierflow.RoleSupervisor, tierflow.RoleExecutive, tierflow.RoleViewer}

// decidingRoles may send decisions.
var decidingRoles = []tierflow.Role{tierflow.RoleAgent, tierflow.RoleSpecialist, tierflow.RoleSupervisor, tierflow.RoleExecutive}
