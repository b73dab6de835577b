package service

import (
	"time"

	"csphub"
)

// InviteCustomerInput is a reseller's invitation of a customer for one of
// its indirect providers.
type InviteCustomerInput struct {
	ProviderID    string   `json:"provider_id" maxLength:"36" doc:"The indirect provider the customer's reseller relationship will be with; the relationship with it must be active"`
	Email         string   `json:"email" maxLength:"254" doc:"Work email of the customer's global admin"`
	CompanyName   string   `json:"company_name,omitempty" maxLength:"200" doc:"The customer's company name, shown in the email"`
	Lang          string   `json:"lang,omitempty" enum:"en,fr" doc:"Language of the email and the acceptance page (default: the inviter's)"`
	ResellerRoles []string `json:"reseller_roles,omitempty" maxItems:"3" doc:"Delegated admin roles asked for your organization: global_admin, billing_admin, user"`
	ProviderRoles []string `json:"provider_roles,omitempty" maxItems:"3" doc:"Delegated admin roles asked for the provider: global_admin, billing_admin, user"`
}

// CustomerInvitationView is an invitation with the provider's name.
type CustomerInvitationView struct {
	csphub.CustomerInvitation
	ProviderName string `json:"provider_name"`
}

// CustomerInvitationPage is one page of a reseller's invitations, newest
// first.
type CustomerInvitationPage struct {
	Items         []CustomerInvitationView `json:"items"`
	NextPageToken string                   `json:"next_page_token,omitempty"`
}

// CustomerInvitationOffer is what the acceptance page shows before the
// customer answers: who asks for what, and where the customer must be.
type CustomerInvitationOffer struct {
	InvitationID      string                         `json:"invitation_id"`
	State             csphub.CustomerInvitationState `json:"state"`
	ResellerName      string                         `json:"reseller_name"`
	ResellerPartnerID string                         `json:"reseller_partner_id"`
	ProviderName      string                         `json:"provider_name"`
	ProviderPartnerID string                         `json:"provider_partner_id"`
	Email             string                         `json:"email"`
	CompanyName       string                         `json:"company_name,omitempty"`
	Lang              string                         `json:"lang"`
	ResellerRoles     []string                       `json:"reseller_roles"`
	ProviderRoles     []string                       `json:"provider_roles"`
	ExpiresAt         time.Time                      `json:"expires_at"`
	Region            string                         `json:"region" doc:"The reseller's region"`
	// Countries are where the customer may be located: the reseller's
	// region, when the provider is authorized for it.
	Countries []string `json:"countries"`
}

// AcceptCustomerInvitationInput is the customer's answer. A signed-in
// customer global admin sends the grant choices alone; a visitor creates
// the customer organization and its first user in the same request with
// NewCustomer.
type AcceptCustomerInvitationInput struct {
	GrantReseller bool         `json:"grant_reseller,omitempty" doc:"Give the reseller the delegated admin roles it asked for"`
	GrantProvider bool         `json:"grant_provider,omitempty" doc:"Give the provider the delegated admin roles it asked for"`
	NewCustomer   *NewCustomer `json:"new_customer,omitempty" doc:"Create the customer organization and its global admin (when not signed in)"`
}

// NewCustomer is a customer organization created while accepting.
type NewCustomer struct {
	OrgName  string `json:"organization_name" minLength:"1" maxLength:"200"`
	Country  string `json:"country" minLength:"2" maxLength:"2" doc:"ISO 3166-1 alpha-2; must be in the reseller's region"`
	Domain   string `json:"domain" minLength:"3" maxLength:"253"`
	Name     string `json:"name" minLength:"1" maxLength:"200" doc:"Full name of the first user, the global admin"`
	Email    string `json:"email" maxLength:"254"`
	Password string `json:"password" maxLength:"1024"`
	Lang     string `json:"lang,omitempty" enum:"en,fr"`
}

// CustomerAcceptance is what accepting created.
type CustomerAcceptance struct {
	Customer      csphub.Organization           `json:"customer"`
	User          *csphub.User                  `json:"user,omitempty" doc:"The customer's first user, when the organization was created"`
	Link          csphub.CustomerLink           `json:"link"`
	Relationships []csphub.CustomerRelationship `json:"relationships"`
	Grants        []csphub.Grant                `json:"grants"`
}

// CreateCustomerInput is a provider's new customer for one of its
// resellers, with the customer's first global admin.
type CreateCustomerInput struct {
	ResellerID string `json:"reseller_id" maxLength:"36" doc:"The indirect reseller the customer's relationship will name; your relationship with it must be active"`
	OrgName    string `json:"organization_name" maxLength:"200"`
	Country    string `json:"country" maxLength:"2"`
	Domain     string `json:"domain" maxLength:"253"`
	AdminName  string `json:"admin_name" maxLength:"200" doc:"The customer's first global admin, who receives a link to choose a password"`
	AdminEmail string `json:"admin_email" maxLength:"254"`
	Lang       string `json:"lang,omitempty" enum:"en,fr"`
}

// CustomerQuery filters a customer list.
type CustomerQuery struct {
	ProviderID string // reseller: the customers shared with this provider
	ResellerID string // provider: the customers it has through this reseller
	Q          string // prefix of the name or the domain
	Sort       string // name (default) or created
	PageToken  string
	PageSize   int
}

// PartnerOfRecord is one of a customer's partners, as a list shows it.
type PartnerOfRecord struct {
	OrganizationID string             `json:"organization_id"`
	Name           string             `json:"name"`
	PartnerID      string             `json:"partner_id,omitempty"`
	Role           csphub.PartnerRole `json:"role"`
	ResellerIDs    []string           `json:"reseller_ids,omitempty" doc:"For a provider: the resellers its relationship with the customer names"`
}

// CustomerView is a customer with its partners of record.
type CustomerView struct {
	csphub.Organization
	Since    time.Time         `json:"since" doc:"When the relationship this list reads began (the organization's creation for the operator)"`
	Partners []PartnerOfRecord `json:"partners"`
}

// CustomerPage is one page of customers.
type CustomerPage struct {
	Items         []CustomerView `json:"items"`
	NextPageToken string         `json:"next_page_token,omitempty"`
}

// CustomerRelationshipView is a customer relationship with the partner's
// name.
type CustomerRelationshipView struct {
	csphub.CustomerRelationship
	PartnerName      string `json:"partner_name"`
	PartnerPartnerID string `json:"partner_partner_id,omitempty"`
}

// CustomerChain is a customer's relationships and the links between its
// providers and resellers, as far as the caller may see them.
type CustomerChain struct {
	Customer      csphub.Organization        `json:"customer"`
	Relationships []CustomerRelationshipView `json:"relationships"`
	Links         []csphub.CustomerLink      `json:"links"`
}

// BulkCustomerInvitations is a batch of invitations (from a CSV upload).
type BulkCustomerInvitations struct {
	Items []InviteCustomerInput `json:"items" minItems:"1" maxItems:"500"`
}

// BulkInvitationResult is the outcome of one row of a batch.
type BulkInvitationResult struct {
	Row        int                     `json:"row" doc:"1-based position in the batch"`
	Email      string                  `json:"email"`
	Invitation *CustomerInvitationView `json:"invitation,omitempty"`
	Error      *csphub.Error           `json:"error,omitempty" doc:"Why the row was refused; nothing was sent for it"`
}

// BulkInvitationReport is the outcome of a batch: every row's result.
type BulkInvitationReport struct {
	Sent    int                    `json:"sent"`
	Refused int                    `json:"refused"`
	Results []BulkInvitationResult `json:"results"`
}
