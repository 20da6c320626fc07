package oauth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// RefreshingSource is an oauth2.TokenSource that refreshes the access token with the refresh
// token shortly before it expires (or when Invalidate is called after a 401), for long data runs.
type RefreshingSource struct {
	ctx    context.Context
	client *Client
	early  time.Duration

	mu        sync.Mutex
	cur       *TokenResponse
	refreshes int
	onRefresh func(*TokenResponse)
}

// NewTokenSource starts from a successful token response. early is how long before expiry to
// refresh (default 30s). onRefresh, when not nil, sees every refresh answer (for evidence/checks).
func (c *Client) NewTokenSource(ctx context.Context, first *TokenResponse, early time.Duration, onRefresh func(*TokenResponse)) *RefreshingSource {
	if early <= 0 {
		early = 30 * time.Second
	}
	return &RefreshingSource{ctx: ctx, client: c, early: early, cur: first, onRefresh: onRefresh}
}

// Token implements oauth2.TokenSource.
func (s *RefreshingSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp := s.cur.Expiry()
	if s.cur.AccessToken != "" && (exp.IsZero() || s.client.now().Add(s.early).Before(exp)) {
		return s.cur.OAuth2Token(), nil
	}
	if err := s.refreshLocked(); err != nil {
		return nil, err
	}
	return s.cur.OAuth2Token(), nil
}

// Invalidate forces a refresh on the next Token call (e.g. after a 401 mid-run).
func (s *RefreshingSource) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := *s.cur
	cp.AccessToken = ""
	s.cur = &cp
}

// Refreshes returns how many refreshes happened.
func (s *RefreshingSource) Refreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshes
}

// Current returns the latest token response.
func (s *RefreshingSource) Current() *TokenResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

func (s *RefreshingSource) refreshLocked() error {
	if s.cur.RefreshToken == "" {
		return errors.New("oauth: the access token expired and there is no refresh_token; request offline_access or online_access")
	}
	t, err := s.client.Refresh(s.ctx, s.cur.RefreshToken, "")
	if err != nil {
		return fmt.Errorf("oauth: refreshing the access token: %w", err)
	}
	if s.onRefresh != nil {
		s.onRefresh(t)
	}
	if !t.OK() {
		return fmt.Errorf("oauth: refreshing the access token: token endpoint answered HTTP %d (error %s)", t.Status, safeCode(t.Error))
	}
	if t.RefreshToken == "" {
		t.RefreshToken = s.cur.RefreshToken // not rotated
	}
	s.cur = t
	s.refreshes++
	return nil
}
