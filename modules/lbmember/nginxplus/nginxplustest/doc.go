// Package nginxplustest is a fake NGINX Plus API (version 9) for tests:
// an httptest server with one HTTP upstream that answers the requests the
// nginxplus driver makes with the documented bodies, including the error
// envelope, 405 MethodDisabled without "api write=on", the 400 for an "id"
// in a PATCH body, and nginx's HTML 401 page when auth_basic guards the
// write methods (limit_except GET).
package nginxplustest
