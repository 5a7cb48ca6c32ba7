package geostack

import (
	"errors"
	"fmt"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"

	"github.com/geostack/geostack/catalog"
	"github.com/geostack/geostack/identity"
)

// ApplyCloud sets the credential, the scope, the TLS settings and the
// default interface of c from a cloud in clouds.yaml (and secure.yaml), read
// by gophercloud's clouds package with OS_CLOUD and the other variables it
// honours. Pass clouds.WithCloudName to choose the cloud.
//
// The auth_url in clouds.yaml is not used: geostack takes the auth_urls from
// its own configuration, one or more per location. allow_reauth is ignored
// too: geostack always fetches a new token when one expires or is rejected.
// On error c is left unchanged.
func (c *Config) ApplyCloud(opts ...clouds.ParseOption) error {
	ao, eo, tlsConfig, err := clouds.Parse(opts...)
	if err != nil {
		return fmt.Errorf("geostack: clouds.yaml: %w", err)
	}
	cred, scope, err := CredentialsFromAuthOptions(ao)
	if err != nil {
		return err
	}
	c.Credential, c.Scope = cred, scope
	if tlsConfig != nil {
		c.TLSConfig = tlsConfig
	}
	if eo.Availability != "" && len(c.DefaultInterfaces) == 0 {
		c.DefaultInterfaces = []catalog.Interface{catalog.Interface(eo.Availability)}
	}
	return nil
}

// CredentialsFromAuthOptions converts gophercloud's AuthOptions into an
// identity credential and scope. Trust scopes and TOTP passcodes are not
// supported.
func CredentialsFromAuthOptions(ao gophercloud.AuthOptions) (identity.Credential, identity.Scope, error) {
	var cred identity.Credential
	switch {
	case ao.Passcode != "":
		return nil, identity.Scope{}, errors.New("geostack: auth options: TOTP passcodes are not supported")
	case ao.TokenID != "":
		cred = identity.TokenCredential{ID: ao.TokenID}
	case ao.ApplicationCredentialID != "" || ao.ApplicationCredentialName != "":
		cred = identity.ApplicationCredential{
			ID:             ao.ApplicationCredentialID,
			Name:           ao.ApplicationCredentialName,
			UserID:         ao.UserID,
			UserName:       ao.Username,
			UserDomainID:   ao.DomainID,
			UserDomainName: ao.DomainName,
			Secret:         ao.ApplicationCredentialSecret,
		}
	default:
		cred = identity.Password{
			UserID:     ao.UserID,
			UserName:   ao.Username,
			DomainID:   ao.DomainID,
			DomainName: ao.DomainName,
			Password:   ao.Password,
		}
	}

	var scope identity.Scope
	switch s := ao.Scope; {
	case s != nil && s.TrustID != "":
		return nil, identity.Scope{}, errors.New("geostack: auth options: trust scopes are not supported")
	case s != nil && s.System:
		scope.System = true
	case s != nil && s.ProjectID != "":
		scope.ProjectID = s.ProjectID
	case s != nil && s.ProjectName != "":
		scope.ProjectName, scope.ProjectDomainID, scope.ProjectDomainName = s.ProjectName, s.DomainID, s.DomainName
	case s != nil:
		scope.DomainID, scope.DomainName = s.DomainID, s.DomainName
	case ao.TenantID != "":
		scope.ProjectID = ao.TenantID
	case ao.TenantName != "":
		// As gophercloud does: a project given by name alone is in the
		// user's domain.
		scope.ProjectName, scope.ProjectDomainID, scope.ProjectDomainName = ao.TenantName, ao.DomainID, ao.DomainName
	}
	if _, ok := cred.(identity.ApplicationCredential); ok {
		// An application credential carries its own scope.
		scope = identity.Scope{}
	}
	if err := cred.Validate(); err != nil {
		return nil, identity.Scope{}, fmt.Errorf("geostack: auth options: %w", err)
	}
	return cred, scope, nil
}
