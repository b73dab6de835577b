package web

import (
	"net/http"
	"net/url"
	"unicode/utf8"

	"csphub"
	"csphub/internal/service"
)

// The picture of the channel on the partner's overview: the reader's
// organization in the middle, its indirect providers on the left, its
// indirect resellers on the right and, beyond them, its customers, each
// a link to where that relationship is managed, with its state. It is
// drawn on the server as SVG (no script), and the same relationships are
// listed in words beside it for screen readers and text browsers.

const (
	channelColWidth  = 220
	channelGap       = 40
	channelNodeH     = 52
	channelRowH      = 64
	channelTop       = 40
	channelMaxShown  = 8 // per column; the lists link to the rest
	channelNameRunes = 24
)

type channelNode struct {
	Name      string // full, for the title and the text list
	Label     string // shortened to fit the box
	Sub       string // the state, or a partner ID
	URL       string
	Active    bool
	OrgID     string
	X, Y      int
	TextX     int
	NameY     int
	SubY      int
	EdgeLeft  int // where an edge meets the box
	EdgeRight int
	EdgeY     int
}

type channelEdge struct {
	X1, Y1, X2, Y2 int
	Active         bool
}

type channelPicture struct {
	Width, Height int
	Self          channelNode
	Providers     []channelNode
	Resellers     []channelNode
	Customers     []channelNode
	Edges         []channelEdge
	// Column headings and their x.
	Headings []channelHeading
	// More* say a column shows only the first channelMaxShown.
	MoreProviders, MoreResellers, MoreCustomers bool
}

type channelHeading struct {
	Text string
	X    int
}

func shorten(s string) string {
	if utf8.RuneCountInString(s) <= channelNameRunes {
		return s
	}
	r := []rune(s)
	return string(r[:channelNameRunes-1]) + "…"
}

func placeNode(n *channelNode, col, row int) {
	n.X = col * (channelColWidth + channelGap)
	n.Y = channelTop + row*channelRowH
	n.TextX = n.X + 12
	n.NameY = n.Y + 22
	n.SubY = n.Y + 40
	n.EdgeLeft, n.EdgeRight, n.EdgeY = n.X, n.X+channelColWidth, n.Y+channelNodeH/2
	n.Label = shorten(n.Name)
}

// channelOf draws the reader's channel. Only relationships that exist
// are drawn: a reseller without providers shows none on the left.
func (h *Handler) channelOf(r *http.Request, v *viewer) (*channelPicture, error) {
	l := h.localizer(r)
	providers, err := h.partnersOf(r.Context(), v.actor, resellerSide, "")
	if err != nil {
		return nil, err
	}
	resellers, err := h.partnersOf(r.Context(), v.actor, providerSide, "")
	if err != nil {
		return nil, err
	}
	customers, err := h.svc.ListCustomers(r.Context(), v.actor, service.CustomerQuery{PageSize: channelMaxShown})
	if err != nil {
		return nil, err
	}
	pic := &channelPicture{}
	col := 0
	if len(providers) > 0 {
		pic.Headings = append(pic.Headings, channelHeading{Text: l.T("channel.heading.providers"), X: col * (channelColWidth + channelGap)})
		for i, p := range providers {
			if i == channelMaxShown {
				pic.MoreProviders = true
				break
			}
			n := channelNode{Name: p.Name, Sub: partnershipStateLabel(l, p.State), URL: indirectProvidersPath, Active: p.State == csphub.PartnershipActive}
			placeNode(&n, col, i)
			pic.Providers = append(pic.Providers, n)
		}
		col++
	}
	pic.Self = channelNode{Name: v.me.Organization.Name, Sub: l.T("channel.you"), URL: "/partner/profile", Active: true}
	pic.Headings = append(pic.Headings, channelHeading{Text: l.T("channel.heading.you"), X: col * (channelColWidth + channelGap)})
	placeNode(&pic.Self, col, 0)
	col++
	for _, p := range pic.Providers {
		pic.Edges = append(pic.Edges, channelEdge{X1: p.EdgeRight, Y1: p.EdgeY, X2: pic.Self.EdgeLeft, Y2: pic.Self.EdgeY, Active: p.Active})
	}
	if len(resellers) > 0 {
		pic.Headings = append(pic.Headings, channelHeading{Text: l.T("channel.heading.resellers"), X: col * (channelColWidth + channelGap)})
		for i, p := range resellers {
			if i == channelMaxShown {
				pic.MoreResellers = true
				break
			}
			n := channelNode{Name: p.Name, Sub: partnershipStateLabel(l, p.State), Active: p.State == csphub.PartnershipActive, OrgID: p.OrgID,
				URL: partnerCustomersPath + "?reseller_id=" + url.QueryEscape(p.OrgID)}
			placeNode(&n, col, i)
			pic.Resellers = append(pic.Resellers, n)
			pic.Edges = append(pic.Edges, channelEdge{X1: pic.Self.EdgeRight, Y1: pic.Self.EdgeY, X2: n.EdgeLeft, Y2: n.EdgeY, Active: n.Active})
		}
		col++
	}
	drawnResellers := make(map[string]channelNode, len(pic.Resellers))
	for _, n := range pic.Resellers {
		drawnResellers[n.OrgID] = n
	}
	if len(customers.Items) > 0 {
		pic.Headings = append(pic.Headings, channelHeading{Text: l.T("channel.heading.customers"), X: col * (channelColWidth + channelGap)})
		pic.MoreCustomers = customers.NextPageToken != ""
		for i, c := range customers.Items {
			n := channelNode{Name: c.Name, Sub: countryName(l, c.Country), Active: true, URL: partnerCustomersPath + "/" + url.PathEscape(c.ID)}
			placeNode(&n, col, i)
			pic.Customers = append(pic.Customers, n)
			// A customer hangs from the reseller it buys through when that
			// reseller is drawn, else from the reader's organization.
			from := pic.Self
			for _, p := range c.Partners {
				if rn, ok := drawnResellers[p.OrganizationID]; ok && p.Role == csphub.PartnerRoleReseller {
					from = rn
				}
			}
			pic.Edges = append(pic.Edges, channelEdge{X1: from.EdgeRight, Y1: from.EdgeY, X2: n.EdgeLeft, Y2: n.EdgeY, Active: true})
		}
		col++
	}
	rows := max(len(pic.Providers), len(pic.Resellers), len(pic.Customers), 1)
	pic.Width = col*(channelColWidth+channelGap) - channelGap
	pic.Height = channelTop + rows*channelRowH
	return pic, nil
}
