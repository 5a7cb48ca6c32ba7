package wirelog_test

import (
	"fmt"
	"net/url"

	"github.com/geostack/geostack/wirelog"
)

// What the Transport logs of a Keystone password authentication and of a
// Swift temporary URL.
func ExampleRedactJSON() {
	body := `{"auth": {"identity": {"methods": ["password"],
		"password": {"user": {"name": "gncu00000001", "domain": {"name": "gnc"}, "password": "hunter2"}}}}}`
	fmt.Println(wirelog.RedactJSON([]byte(body), 0))
	u, _ := url.Parse("https://swift.example.com/v1/AUTH_p/c/o?temp_url_sig=9f1e&temp_url_expires=1767225600")
	fmt.Println(wirelog.RedactURL(u))
	// Output:
	// {"auth":{"identity":{"methods":["password"],"password":{"user":{"domain":{"name":"gnc"},"name":"gncu00000001","password":"REDACTED"}}}}}
	// https://swift.example.com/v1/AUTH_p/c/o?temp_url_expires=1767225600&temp_url_sig=REDACTED
}
