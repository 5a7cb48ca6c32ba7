package testserver

import "net/http"

func (s *Server) serveService(w http.ResponseWriter, r *http.Request, svcType, region, iface, base, rest string) {
	http.NotFound(w, r)
}

// novaServer is a server created through POST /servers.
type novaServer struct{}
