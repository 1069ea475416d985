package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"slices"
	"strings"

	"github.com/kakeru-dialer/kakeru/config"
)

// Principal is the authenticated caller of a request.
type Principal struct {
	Name        string
	Role        config.Role
	CampaignIDs []int
	AgentID     int
	// Endpoints the caller may have a supervision leg call; empty: any (config.User).
	SupervisorEndpoints []string
	// MayStartJobs: a supervisor who may start its campaigns' call jobs (config.User).
	MayStartJobs bool
	// tokenSHA256 is the configured token's hash the request matched: a request that outlives a
	// reload (an event stream) is still the same user only while it stays configured.
	tokenSHA256 string
}

// stillValid reports whether the caller is configured in cfg exactly as when it was
// authenticated: same name, token, role, campaigns, agent and endpoints.
func (p Principal) stillValid(cfg *config.Config) bool {
	for _, u := range cfg.Users {
		if u.TokenSHA256 == p.tokenSHA256 {
			return u.Name == p.Name && u.Role == p.Role && slices.Equal(u.CampaignIDs, p.CampaignIDs) &&
				u.AgentID == p.AgentID && slices.Equal(u.SupervisorEndpoints, p.SupervisorEndpoints) &&
				u.MayStartJobs == p.MayStartJobs
		}
	}
	return false
}

// CanCampaign reports whether the caller may see and edit the campaign's data.
func (p Principal) CanCampaign(id int) bool {
	switch p.Role {
	case config.RoleAdmin:
		return true
	case config.RoleSupervisor:
		return slices.Contains(p.CampaignIDs, id)
	}
	return false
}

// campaignScope is nil for every campaign, else the campaigns the caller may see.
func (p Principal) campaignScope() []int {
	if p.Role == config.RoleAdmin {
		return nil
	}
	if p.Role == config.RoleSupervisor {
		return p.CampaignIDs
	}
	return []int{}
}

type principalKey struct{}

func principalFrom(ctx context.Context) Principal {
	p, _ := ctx.Value(principalKey{}).(Principal)
	return p
}

// authenticate resolves the bearer token against the users of the current configuration, so a
// SIGHUP that changes users takes effect on the next request.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The scheme is case-insensitive (RFC 9110 §11.1); the token is not.
		scheme, token, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		token = strings.TrimSpace(token)
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="kakeru"`)
			s.writeError(w, r, errorf(http.StatusUnauthorized, "unauthorized", "send Authorization: Bearer TOKEN"))
			return
		}
		sum := sha256.Sum256([]byte(token))
		want := []byte(hex.EncodeToString(sum[:]))
		for _, u := range s.cfg.Current().Users {
			if subtle.ConstantTimeCompare(want, []byte(u.TokenSHA256)) == 1 {
				p := Principal{Name: u.Name, Role: u.Role, CampaignIDs: u.CampaignIDs, AgentID: u.AgentID,
					SupervisorEndpoints: u.SupervisorEndpoints, MayStartJobs: u.MayStartJobs, tokenSHA256: u.TokenSHA256}
				next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
				return
			}
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="kakeru", error="invalid_token"`)
		s.writeError(w, r, errorf(http.StatusUnauthorized, "unauthorized", "unknown token"))
	})
}

// staffOnly refuses agents: the handler then checks campaigns itself.
func staffOnly(p Principal) error {
	if p.Role != config.RoleAdmin && p.Role != config.RoleSupervisor {
		return errForbidden
	}
	return nil
}
