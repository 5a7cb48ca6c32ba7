package testserver

// RevokeToken revokes a token as DELETE /v3/auth/tokens would, without a
// request: every location stops accepting it at once. It reports whether
// the token was known.
func (s *Server) RevokeToken(id string) bool {
	v, ok := s.tokens.Load(id)
	if !ok {
		return false
	}
	v.(*token).revoked.Store(true)
	return true
}
