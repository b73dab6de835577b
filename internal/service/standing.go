package service

import (
	"csphub"
	"csphub/internal/store"
)

// PartnerStanding is what the rules between partners depend on: the
// approved memberships, the agreement, the region and, for a provider, the
// regions the operator authorized it for.
type PartnerStanding struct {
	OrgID            string                 `json:"organization_id"`
	PartnerID        string                 `json:"partner_id,omitempty"`
	Region           string                 `json:"region,omitempty" doc:"From the legal country"`
	ResellerEnrolled bool                   `json:"reseller_enrolled" doc:"An indirect reseller application exists and is not rejected"`
	ResellerApproved bool                   `json:"reseller_approved"`
	ProviderApproved bool                   `json:"provider_approved"`
	ProviderRegions  []string               `json:"provider_regions"`
	AgreementSigned  bool                   `json:"agreement_signed"`
	Agreement        csphub.AgreementStatus `json:"-"`
}

// partnerStanding reads a partner's standing inside the caller's
// transaction.
func (s *Service) partnerStanding(tx *store.Tx, orgID string) (PartnerStanding, error) {
	st := PartnerStanding{OrgID: orgID, ProviderRegions: []string{}}
	p, err := tx.PartnerProfile(orgID, false)
	switch {
	case err == nil:
		st.PartnerID = p.PartnerID
		if m, err := tx.MarketOf(p.Address.Country); err == nil {
			st.Region = m.RegionCode
		} else if csphub.ErrorKind(err) != csphub.KindNotFound {
			return st, err
		}
	case csphub.ErrorKind(err) == csphub.KindNotFound:
		return st, nil
	default:
		return st, err
	}
	list, err := tx.Enrollments(orgID)
	if err != nil {
		return st, err
	}
	for _, e := range list {
		switch e.Program {
		case csphub.ProgramIndirectReseller:
			st.ResellerEnrolled = st.ResellerEnrolled || e.State != csphub.EnrollmentRejected
			st.ResellerApproved = st.ResellerApproved || e.State == csphub.EnrollmentApproved
		case csphub.ProgramIndirectProvider:
			st.ProviderApproved = st.ProviderApproved || e.State == csphub.EnrollmentApproved
		}
	}
	if st.ProviderApproved {
		if st.ProviderRegions, err = tx.ProviderRegions(orgID); err != nil {
			return st, err
		}
	}
	if st.Agreement, err = s.agreementStatus(tx, orgID); err != nil {
		return st, err
	}
	st.AgreementSigned = st.Agreement.Signed
	return st, nil
}
