package testserver

import (
	"cmp"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// regionInterfacePath reads the path layout of scripts/services-up.sh's
// real services and keystone-seed.py's catalog, /{REGION}/{interface}/…,
// as the Server's own /[interface/]{REGION}/…: it returns the interface
// and the path without it. Any other path is the public interface's, as
// it is.
func regionInterfacePath(p string) (iface, rest string) {
	parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 3)
	if len(parts) == 3 {
		switch parts[1] {
		case "public", "internal", "admin":
			return parts[1], "/" + parts[0] + "/" + parts[2]
		}
	}
	return "public", p
}

// listServers answers GET /servers and /servers/detail with the caller's
// project's servers in the region, oldest first; ?name= is a regular
// expression, as in Nova.
func (s *Server) listServers(w http.ResponseWriter, sr *serviceReq) {
	var re *regexp.Regexp
	if n := sr.query.Get("name"); n != "" {
		var err error
		if re, err = regexp.Compile(n); err != nil {
			serviceError(w, http.StatusBadRequest, "Invalid name filter: "+err.Error())
			return
		}
	}
	detail := strings.HasSuffix(sr.rest, "/detail")
	s.novaMu.RLock()
	var mine []*novaServer
	for _, sv := range s.servers {
		if sv.region == sr.region && sv.projectID == sr.tok.projectID && (re == nil || re.MatchString(sv.name)) {
			mine = append(mine, sv)
		}
	}
	s.novaMu.RUnlock()
	slices.SortFunc(mine, func(a, b *novaServer) int {
		return cmp.Or(a.created.Compare(b.created), cmp.Compare(a.id, b.id))
	})
	list := []any{}
	for _, sv := range mine {
		if detail {
			list = append(list, s.serverJSON(sv, sr.base))
			continue
		}
		self := sr.base + "/v2.1/servers/" + sv.id
		list = append(list, map[string]any{"id": sv.id, "name": sv.name,
			"links": []any{link("self", self), link("bookmark", strings.Replace(self, "/v2.1/", "/", 1))}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"servers": list})
}

// deleteServer answers DELETE /servers/{id}: 204, and the server is gone.
func (s *Server) deleteServer(w http.ResponseWriter, sr *serviceReq, id string) {
	s.novaMu.Lock()
	sv, ok := s.servers[id]
	if ok && sv.region == sr.region && (sv.projectID == sr.tok.projectID || sr.admin) {
		delete(s.servers, id)
	} else {
		ok = false
	}
	s.novaMu.Unlock()
	if !ok {
		serviceError(w, http.StatusNotFound, "Instance "+id+" could not be found.")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// listPorts answers GET /v2.0/ports. The Server's servers get no network
// interface and the World holds no port, so there is none to list, for
// any filter; a real Nova standing next to the Server asks this for the
// ports of a server it shows or deletes.
func listPorts(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, map[string]any{"ports": []any{}})
}
