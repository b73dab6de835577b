package mail

import (
	"strings"
	"testing"
	"time"
)

var requestedAt = time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC)

func smtpTest(lang Lang) SMTPTest {
	return SMTPTest{
		To:          Recipient{Address: "ops@example.com", Name: "Océane Martin", Lang: lang},
		Server:      "smtp.example.com:587",
		RequestedBy: "admin@example.com",
		RequestedAt: requestedAt,
	}
}

func TestRenderSMTPTestInEnglishAndFrench(t *testing.T) {
	for _, tc := range []struct {
		lang                        Lang
		subject, greeting, sentence string
		when, signature             string
	}{
		{English, "csphub mail settings test", "Hello Océane Martin,",
			"This message confirms that csphub can send email through", "2026-03-02 at 08:30 UTC", "sent automatically by csphub"},
		{French, "Test des paramètres de messagerie de csphub", "Bonjour Océane Martin,",
			"Ce message confirme que csphub peut envoyer des courriels via", "02/03/2026 à 08:30 UTC", "envoyé automatiquement par csphub"},
	} {
		t.Run(string(tc.lang), func(t *testing.T) {
			e, err := Render(smtpTest(tc.lang))
			if err != nil {
				t.Fatal(err)
			}
			if e.Subject != tc.subject || e.Lang != string(tc.lang) || e.Template != "smtp_test" ||
				e.To != "ops@example.com" || e.ToName != "Océane Martin" {
				t.Fatalf("rendered %+v", e)
			}
			for _, body := range []string{e.Text, e.HTML} {
				for _, want := range []string{tc.greeting, tc.sentence, "smtp.example.com:587", "admin@example.com", tc.when, tc.signature} {
					if !strings.Contains(body, want) {
						t.Errorf("body lacks %q:\n%s", want, body)
					}
				}
			}
			if strings.Contains(e.Text, "<p>") || !strings.Contains(e.HTML, "<p>") {
				t.Error("text and HTML bodies are mixed up")
			}
			if !strings.Contains(e.HTML, `<html lang="`+string(tc.lang)+`">`) || !strings.Contains(e.HTML, "<title>"+tc.subject+"</title>") {
				t.Errorf("HTML does not declare its language and title:\n%s", e.HTML)
			}
		})
	}
}

func TestRenderDefaultsToEnglishAndRefusesOtherLanguages(t *testing.T) {
	e, err := Render(smtpTest(""))
	if err != nil || e.Lang != "en" || e.Subject != "csphub mail settings test" {
		t.Fatalf("no language: %+v %v", e, err)
	}
	if _, err := Render(smtpTest("de")); err == nil {
		t.Fatal("a language without templates was accepted")
	}
}

// The HTML body is escaped for HTML; the text body is left as written.
func TestRenderEscapesDataInHTMLOnly(t *testing.T) {
	m := smtpTest(English)
	m.RequestedBy = `<script>alert("x")</script> & co`
	m.To.Name = "<b>Eve</b>"
	e, err := Render(m)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(e.HTML, "<script>") || strings.Contains(e.HTML, "<b>Eve</b>") ||
		!strings.Contains(e.HTML, "&lt;script&gt;") || !strings.Contains(e.HTML, "&amp; co") {
		t.Fatalf("HTML body not escaped:\n%s", e.HTML)
	}
	if !strings.Contains(e.Text, `<script>alert("x")</script> & co`) {
		t.Fatalf("text body altered:\n%s", e.Text)
	}
}

// samples holds one message of every type, in the given language: adding a
// message type means adding it here, and TestEveryTemplateRendersInEveryLanguage
// then renders it in every language.
var samples = map[string]func(Lang) Message{
	"smtp_test": func(l Lang) Message { return smtpTest(l) },
	"password_reset": func(l Lang) Message {
		return PasswordReset{To: Recipient{Address: "jane@contoso.example", Lang: l},
			Link: "https://csphub.example/reset-password/abc", ExpiresAt: time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)}
	},
	"user_invitation": func(l Lang) Message {
		return UserInvitation{To: Recipient{Address: "jane@contoso.example", Name: "Jane Doe", Lang: l}, Organization: "Contoso",
			InvitedBy: "Jeanne Martin", Link: "https://csphub.example/user-invitations/abc", ExpiresAt: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	},
	"enrollment_verification": func(l Lang) Message {
		return EnrollmentVerification{To: Recipient{Address: "jane@contoso.example", Name: "Jane Doe", Lang: l}, LegalName: "Contoso SAS",
			Program: "indirect_reseller", Link: "https://csphub.example/enrollments/verify/abc", ExpiresAt: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)}
	},
	"enrollment_status": func(l Lang) Message {
		return EnrollmentStatus{To: Recipient{Address: "jane@contoso.example", Name: "Jane Doe", Lang: l}, LegalName: "Contoso SAS",
			Program: "indirect_reseller", State: "info_requested", Reason: "Send the company registration number.", Link: "https://csphub.example/partner/enrollment"}
	},
	"partnership_invitation": func(l Lang) Message {
		return PartnershipInvitation{To: Recipient{Address: "jane@contoso.example", Lang: l}, Provider: "Fabrikam", ProviderPartnerID: "4100003",
			InvitedBy: "Jeanne Martin", PartnerID: "4100001", Link: "https://csphub.example/partnership-invitations/abc", ExpiresAt: time.Date(2026, 12, 23, 9, 0, 0, 0, time.UTC)}
	},
	"partnership_status": func(l Lang) Message {
		return PartnershipStatus{To: Recipient{Address: "jane@contoso.example", Name: "Jane Doe", Lang: l}, Side: "reseller", Provider: "Fabrikam",
			Reseller: "Contoso", Change: "terminated", EndedBy: "Fabrikam", Reason: "Contract ended.", Link: "https://csphub.example/partner/indirect-providers"}
	},
	"customer_invitation": func(l Lang) Message {
		return CustomerInvitation{To: Recipient{Address: "it@northwind.example", Lang: l}, Reseller: "Contoso", Provider: "Fabrikam",
			InvitedBy: "Jeanne Martin", Company: "Northwind", ResellerRoles: []string{"global_admin"}, ProviderRoles: []string{"billing_admin"},
			Link: "https://csphub.example/customer-invitations/abc", ExpiresAt: time.Date(2026, 12, 23, 9, 0, 0, 0, time.UTC)}
	},
	"customer_relationship_status": func(l Lang) Message {
		return CustomerRelationshipStatus{To: Recipient{Address: "jane@contoso.example", Lang: l}, Customer: "Northwind", Reseller: "Contoso",
			Provider: "Fabrikam", Change: "removed", Partner: "Contoso", Link: "https://csphub.example/partner/customers"}
	},
	"order_placed": func(l Lang) Message {
		return OrderPlaced{To: Recipient{Address: "billing@northwind.example", Lang: l}, Side: "customer", Provider: "Fabrikam",
			Reseller: "Contoso", Customer: "Northwind", OrderID: "0190", Lines: []OrderPlacedLine{{Offer: "Cloud Backup (monthly)", Quantity: 10,
				Price: "4.00 EUR"}}, Link: "https://csphub.example/customer/subscriptions"}
	},
	"contact_request": func(l Lang) Message {
		return ContactRequest{To: Recipient{Address: "partners@fabrikam.example", Lang: l}, Provider: "Fabrikam", Reseller: "Contoso SAS",
			ResellerPartnerID: "4100001", SenderName: "Jeanne Martin", SenderEmail: "jeanne@contoso.example",
			Message: "Hello,\nwe sell in France and look for training.", Link: "https://csphub.example/partner/inbox"}
	},
}

// Every template pair defines a subject and a body in every language, and
// each renders: adding a message type without its French half fails here.
func TestEveryTemplateRendersInEveryLanguage(t *testing.T) {
	sets, err := loadTemplates(templateFiles)
	if err != nil {
		t.Fatal(err)
	}
	for name := range sets {
		sample, ok := samples[name]
		if !ok {
			t.Errorf("template %q has no sample message in this test", name)
			continue
		}
		if got := sample(English).Template(); got != name {
			t.Errorf("message type for %q names template %q", name, got)
		}
	}
	for name, sample := range samples {
		if _, ok := sets[name]; !ok {
			t.Errorf("message type %q has no template", name)
			continue
		}
		for _, lang := range Languages() {
			e, err := Render(sample(lang))
			if err != nil || e.Subject == "" || e.Text == "" || e.HTML == "" || e.Lang != string(lang) {
				t.Errorf("%s in %s: %+v %v", name, lang, e, err)
			}
		}
	}
}

func TestTemplatesMissingALanguageAreRefusedAtLoad(t *testing.T) {
	broken := map[string]string{
		"templates/layout.txt.tmpl":  `{{define "en.layout"}}{{template "en.body" .Msg}}{{end}}{{define "fr.layout"}}{{template "fr.body" .Msg}}{{end}}`,
		"templates/layout.html.tmpl": `{{define "en.layout"}}{{template "en.body" .Msg}}{{end}}{{define "fr.layout"}}{{template "fr.body" .Msg}}{{end}}`,
		"templates/x.txt.tmpl":       `{{define "en.subject"}}s{{end}}{{define "en.body"}}b{{end}}{{define "fr.body"}}b{{end}}`,
		"templates/x.html.tmpl":      `{{define "en.body"}}b{{end}}{{define "fr.body"}}b{{end}}`,
	}
	if _, err := loadTemplates(mapFS(broken)); err == nil || !strings.Contains(err.Error(), "fr.subject") {
		t.Fatalf("a template without a French subject loaded: %v", err)
	}
}
