package atlassiantest

// GroupName returns the name of the group with the given ID ("" when none).
func (s *Server) GroupName(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g, ok := s.groups[id]; ok {
		return g.Name
	}
	return ""
}
