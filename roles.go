package csphub

import "slices"

// Roles of partner organizations (Partner Center's).
const (
	RoleGlobalAdmin   = "global_admin"   // everything; the only role that accepts the agreement and manages roles
	RoleAccountAdmin  = "account_admin"  // users and organization settings
	RoleAdminAgent    = "admin_agent"    // customers, relationships, orders, subscriptions, delegated admin
	RoleSalesAgent    = "sales_agent"    // customers, orders, subscriptions
	RoleHelpdeskAgent = "helpdesk_agent" // support, read customers
	RoleBillingAdmin  = "billing_admin"  // billing and invoices (also a customer role)
)

// Roles of customer organizations (beside global_admin and billing_admin).
const RoleUser = "user"

// Roles of the operator organization.
const (
	RoleOperatorAdmin        = "operator_admin"
	RoleVerificationReviewer = "verification_reviewer"
	RoleCatalogManager       = "catalog_manager"
)

var rolesByKind = map[OrgKind][]string{
	OrgPartner:  {RoleGlobalAdmin, RoleAccountAdmin, RoleAdminAgent, RoleSalesAgent, RoleHelpdeskAgent, RoleBillingAdmin},
	OrgCustomer: {RoleGlobalAdmin, RoleBillingAdmin, RoleUser},
	OrgOperator: {RoleOperatorAdmin, RoleVerificationReviewer, RoleCatalogManager},
}

// RolesOf lists the roles users of an organization of this kind may hold.
func RolesOf(kind OrgKind) []string { return slices.Clone(rolesByKind[kind]) }

// ValidRole reports whether role exists in organizations of this kind.
func ValidRole(kind OrgKind, role string) bool { return slices.Contains(rolesByKind[kind], role) }

// FirstAdminRole is the role of the user who creates an organization.
func FirstAdminRole(kind OrgKind) string {
	if kind == OrgOperator {
		return RoleOperatorAdmin
	}
	return RoleGlobalAdmin
}

// MFARequired reports whether users of an organization of this kind must
// pass multi-factor authentication before any page or API call works.
// Partner Center requires it of every partner user; csphub also requires it
// of the operator's users, who decide on partners.
func MFARequired(kind OrgKind) bool { return kind == OrgPartner || kind == OrgOperator }
