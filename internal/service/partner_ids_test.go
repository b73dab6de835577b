package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"csphub"
	"csphub/internal/store"
	"csphub/internal/testdb"
)

// pidWorld is a deployment with its operator organization, an operator
// admin, a verification reviewer and two partner organizations (FR, DE).
type pidWorld struct {
	t        *testing.T
	db       *store.DB
	svc      *Service
	clock    *csphub.ManualClock
	op       csphub.Organization
	admin    csphub.Actor
	reviewer csphub.Actor
	frOrg    csphub.Organization
	frOrg2   csphub.Organization
	deOrg    csphub.Organization
}

func newPIDWorld(t *testing.T, engine string) *pidWorld {
	t.Helper()
	ctx := context.Background()
	clock := csphub.NewManualClock(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
	db := testdb.Open(t, engine, clock)
	svc := New(db, nil, Options{})
	op, _, err := svc.EnsureOperator(ctx, OperatorSeed{Name: "Operator", Country: "US", Domain: "operator.example"})
	if err != nil {
		t.Fatal(err)
	}
	w := &pidWorld{t: t, db: db, svc: svc, clock: clock, op: op,
		admin: csphub.Actor{Kind: csphub.ActorUser, ID: csphub.NewID(), OrgID: op.ID, OrgKind: csphub.OrgOperator,
			Roles: []string{csphub.RoleOperatorAdmin}, MFAPassed: true},
		reviewer: csphub.Actor{Kind: csphub.ActorUser, ID: csphub.NewID(), OrgID: op.ID, OrgKind: csphub.OrgOperator,
			Roles: []string{csphub.RoleVerificationReviewer}, MFAPassed: true}}
	w.frOrg = w.partner("Contoso", "FR", "contoso.example")
	w.frOrg2 = w.partner("Fabrikam", "FR", "fabrikam.example")
	w.deOrg = w.partner("Northwind", "DE", "northwind.example")
	return w
}

func (w *pidWorld) partner(name, country, domain string) csphub.Organization {
	w.t.Helper()
	out, err := w.svc.Signup(context.Background(), SignupInput{Kind: "partner", OrgName: name, Country: country, Domain: domain,
		Name: "Admin " + name, Email: "admin@" + domain, Password: "correct horse battery staple", Lang: "en"})
	if err != nil {
		w.t.Fatal(err)
	}
	return out.Organization
}

func (w *pidWorld) partnerActor(org csphub.Organization, roles ...string) csphub.Actor {
	return csphub.Actor{Kind: csphub.ActorUser, ID: csphub.NewID(), OrgID: org.ID, OrgKind: csphub.OrgPartner, Roles: roles, MFAPassed: true}
}

func (w *pidWorld) importRows(rows ...PartnerIDRow) PartnerIDImport {
	w.t.Helper()
	im, err := w.svc.ImportPartnerIDs(context.Background(), w.admin, rows)
	if err != nil {
		w.t.Fatal(err)
	}
	return im
}

// claimCode imports one active partner ID and returns its claim code.
func (w *pidWorld) claimCode(id, country string) string {
	w.t.Helper()
	im := w.importRows(PartnerIDRow{PartnerID: id, LegalName: "Legal " + id, Country: country})
	if im.Imported != 1 {
		w.t.Fatalf("import %s: %+v", id, im)
	}
	return im.Results[0].ClaimCode
}

func (w *pidWorld) record(id string) store.PartnerIDRecord {
	w.t.Helper()
	var rec store.PartnerIDRecord
	if err := w.db.Read(context.Background(), func(tx *store.Tx) (err error) {
		rec, err = tx.PartnerIDRecord(id, false)
		return err
	}); err != nil {
		w.t.Fatalf("read %s: %v", id, err)
	}
	return rec
}

func (w *pidWorld) audit(prefix string) []csphub.AuditRecord {
	w.t.Helper()
	ctx := context.Background()
	if err := w.svc.SequenceJournal(ctx); err != nil {
		w.t.Fatal(err)
	}
	var out []csphub.AuditRecord
	if err := w.db.Read(ctx, func(tx *store.Tx) (err error) {
		out, err = tx.AuditRecordsOf(w.op.ID, 0, 100000, prefix)
		return err
	}); err != nil {
		w.t.Fatal(err)
	}
	return out
}

func (w *pidWorld) events(typ string) []csphub.Event {
	w.t.Helper()
	ctx := context.Background()
	if err := w.svc.SequenceJournal(ctx); err != nil {
		w.t.Fatal(err)
	}
	var evs []csphub.Event
	if err := w.db.Read(ctx, func(tx *store.Tx) (err error) {
		evs, err = tx.EventsAfter(w.op.ID, 0, 1000)
		return err
	}); err != nil {
		w.t.Fatal(err)
	}
	return slices.DeleteFunc(evs, func(e csphub.Event) bool { return e.Type != typ })
}

var claimCodeFormat = regexp.MustCompile(`^[A-Z2-7]{5}(-[A-Z2-7]{5}){5}$`)

func wantKind(t *testing.T, err error, kind csphub.Kind, code string) *csphub.Error {
	t.Helper()
	e := csphub.AsError(err)
	if e == nil || e.Kind != kind || e.Code != code {
		t.Fatalf("error %v, want %s %s", err, kind, code)
	}
	return e
}

// codes lists a result's errors as field:code.
func codes(r PartnerIDResult) []string {
	var out []string
	for _, fe := range r.Errors {
		out = append(out, fe.Field+":"+fe.Code)
	}
	return out
}

func TestImportPartnerIDsRefusesBadRowsAndImportsTheRest(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPIDWorld(t, engine)
		long := strings.Repeat("é", 201)
		rows := []PartnerIDRow{
			{Row: 2, PartnerID: "1234567", LegalName: "Contoso SAS", Country: "FR", Status: "active"},
			{Row: 3, PartnerID: " 987654 ", LegalName: "  Northwind GmbH ", Country: "de"},
			{Row: 4, PartnerID: "1000000001", LegalName: "Inactive Ltd", Country: "GB", Status: "Inactive"},
			{Row: 5, PartnerID: "0123456", LegalName: "Leading Zero", Country: "FR"},
			{Row: 6, PartnerID: "12345", LegalName: "Too Short", Country: "FR"},
			{Row: 7, PartnerID: "12345678901", LegalName: "Too Long", Country: "FR"},
			{Row: 8, PartnerID: "12a4567", LegalName: "Letters", Country: "FR"},
			{Row: 9, PartnerID: "2234567", LegalName: "Bad Country", Country: "XX"},
			{Row: 10, PartnerID: "2234568", LegalName: "Alpha-3", Country: "FRA"},
			{Row: 11, PartnerID: "2234569", LegalName: "Paused", Country: "FR", Status: "paused"},
			{Row: 12, PartnerID: "2234570", LegalName: "  ", Country: "FR"},
			{Row: 13, PartnerID: "2234571", LegalName: long, Country: "FR"},
			{Row: 14, PartnerID: "2234572", LegalName: "Two\nLines", Country: "FR"},
			{Row: 15, PartnerID: "1234567", LegalName: "Contoso again", Country: "FR"},
			{Row: 16, PartnerID: "", LegalName: "No ID", Country: "FR"},
			{Row: 17, PartnerID: "x", LegalName: "", Country: "", Status: "gone"},
		}
		im := w.importRows(rows...)
		want := map[int][]string{
			5: {"partner_id:invalid_partner_id"}, 6: {"partner_id:invalid_partner_id"}, 7: {"partner_id:invalid_partner_id"},
			8: {"partner_id:invalid_partner_id"}, 9: {"country:invalid_country"}, 10: {"country:invalid_country"},
			11: {"status:invalid_status"}, 12: {"legal_name:required"}, 13: {"legal_name:too_long"},
			14: {"legal_name:invalid_characters"}, 15: {"partner_id:duplicate_in_batch"}, 16: {"partner_id:required"},
			17: {"partner_id:invalid_partner_id", "legal_name:required", "country:required", "status:invalid_status"},
		}
		if im.Imported != 3 || im.Refused != len(want) || len(im.Results) != len(rows) {
			t.Fatalf("imported %d refused %d results %d", im.Imported, im.Refused, len(im.Results))
		}
		for i, r := range im.Results {
			if r.Row != rows[i].Row {
				t.Errorf("result %d is row %d, want %d", i, r.Row, rows[i].Row)
			}
			if w, refused := want[r.Row]; refused {
				if r.Outcome != PartnerIDRefused || r.ClaimCode != "" || !slices.Equal(codes(r), w) {
					t.Errorf("row %d: %s %q %v, want refused %v", r.Row, r.Outcome, r.ClaimCode, codes(r), w)
				}
				continue
			}
			if r.Outcome != PartnerIDImported || !claimCodeFormat.MatchString(r.ClaimCode) || len(r.Errors) != 0 {
				t.Errorf("row %d: %+v, want imported with a claim code", r.Row, r)
			}
		}
		if m := im.Results[13].Errors[0].Message; !strings.Contains(m, "first at row 2") {
			t.Errorf("duplicate message %q does not name the first row", m)
		}
		if len(im.RowErrors()) != 16 || im.RowErrors()[0].Row != 5 || im.RowErrors()[0].PartnerID != "0123456" {
			t.Errorf("row errors: %+v", im.RowErrors())
		}

		// Stored normalized, with the hash of the code and never the code.
		claimed := map[string]string{}
		for _, r := range im.Results {
			if r.Outcome == PartnerIDImported {
				claimed[r.PartnerID] = r.ClaimCode
			}
		}
		if len(claimed) != 3 || claimed["987654"] == "" {
			t.Fatalf("imported ids: %v", claimed)
		}
		for id, code := range claimed {
			rec := w.record(id)
			sum := sha256.Sum256([]byte(strings.ReplaceAll(code, "-", "")))
			if rec.ClaimCodeHash != hex.EncodeToString(sum[:]) || rec.Source != "imported" || rec.OrgID != "" || rec.LinkedAt != nil ||
				!rec.CreatedAt.Equal(w.clock.Now()) {
				t.Errorf("%s stored as %+v", id, rec)
			}
		}
		if rec := w.record("987654"); rec.LegalName != "Northwind GmbH" || rec.Country != "DE" || rec.Status != csphub.PartnerIDActive {
			t.Errorf("normalized row: %+v", rec)
		}
		if rec := w.record("1000000001"); rec.Status != csphub.PartnerIDInactive {
			t.Errorf("status: %+v", rec)
		}
		if claimed["1234567"] == claimed["987654"] {
			t.Error("two imports got the same claim code")
		}

		// One audit record per imported ID, without the code or its hash;
		// one event with the count.
		recs := w.audit("partner_id.")
		if len(recs) != 3 {
			t.Fatalf("%d audit records, want 3", len(recs))
		}
		for _, rec := range recs {
			if rec.Action != "partner_id.import" || rec.ActorID != w.admin.ID || claimed[rec.ResourceID] == "" {
				t.Errorf("audit record %+v", rec)
			}
			code := claimed[rec.ResourceID]
			stored := w.record(rec.ResourceID).ClaimCodeHash
			if strings.Contains(string(rec.After), code) || strings.Contains(string(rec.After), strings.ReplaceAll(code, "-", "")) ||
				strings.Contains(string(rec.After), stored) || strings.Contains(string(rec.After), "claim") {
				t.Errorf("the audit record keeps the claim code: %s", rec.After)
			}
		}
		evs := w.events("partner_ids.imported")
		if len(evs) != 1 || string(evs[0].Data) != `{"count":3}` {
			t.Fatalf("events %+v", evs)
		}
		for _, e := range w.events("partner_ids.imported") {
			for _, code := range claimed {
				if strings.Contains(string(e.Data), code) {
					t.Error("the event carries a claim code")
				}
			}
		}

		// Importing an ID again is refused; nothing imported, no event.
		again := w.importRows(PartnerIDRow{PartnerID: "1234567", LegalName: "Contoso SAS", Country: "FR"},
			PartnerIDRow{PartnerID: "987654", LegalName: "Northwind GmbH", Country: "DE"})
		if again.Imported != 0 || again.Refused != 2 || !slices.Equal(codes(again.Results[1]), []string{"partner_id:partner_id_exists"}) ||
			again.Results[0].Row != 1 || again.Results[1].Row != 2 {
			t.Fatalf("again: %+v", again)
		}
		if w.record("1234567").ClaimCodeHash != hashClaimCode(claimed["1234567"]) {
			t.Error("a refused import changed the claim code")
		}
		if n := len(w.events("partner_ids.imported")); n != 1 {
			t.Errorf("%d import events after an import of nothing", n)
		}
	})
}

func TestImportPartnerIDsBatchLimits(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPIDWorld(t, engine)
		ctx := context.Background()
		_, err := w.svc.ImportPartnerIDs(ctx, w.admin, nil)
		if e := wantKind(t, err, csphub.KindInvalid, "invalid_input"); e.Fields[0].Code != "empty" {
			t.Errorf("no rows: %+v", e.Fields)
		}
		rows := make([]PartnerIDRow, MaxPartnerIDImport+1)
		for i := range rows {
			rows[i] = PartnerIDRow{PartnerID: fmt.Sprint(3_000_000 + i), LegalName: fmt.Sprint("Partner ", i), Country: "FR"}
		}
		_, err = w.svc.ImportPartnerIDs(ctx, w.admin, rows)
		if e := wantKind(t, err, csphub.KindInvalid, "invalid_input"); e.Fields[0].Field != "items" || e.Fields[0].Code != "too_many" ||
			!strings.Contains(e.Fields[0].Message, "5000") {
			t.Errorf("too many rows: %+v", e.Fields)
		}
		var n int
		if err := w.db.Read(ctx, func(tx *store.Tx) error {
			ids, err := tx.PartnerIDs("", nil, 10)
			n = len(ids)
			return err
		}); err != nil || n != 0 {
			t.Fatalf("a refused batch left %d partner IDs (%v)", n, err)
		}
		// The limit itself is one transaction.
		start := time.Now()
		im, err := w.svc.ImportPartnerIDs(ctx, w.admin, rows[:MaxPartnerIDImport])
		if err != nil || im.Imported != MaxPartnerIDImport {
			t.Fatalf("a full batch: %d imported, %v", im.Imported, err)
		}
		t.Logf("%s: %d partner IDs imported in %s", engine, MaxPartnerIDImport, time.Since(start))
		if n := len(w.audit("partner_id.import")); n != MaxPartnerIDImport {
			t.Errorf("%d audit records", n)
		}
	})
}

func TestPartnerIDPermissions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPIDWorld(t, engine)
		ctx := context.Background()
		w.claimCode("1234567", "FR")
		row := []PartnerIDRow{{PartnerID: "7654321", LegalName: "X", Country: "FR"}}
		tokenNoRole := csphub.Actor{Kind: csphub.ActorToken, ID: csphub.NewID(), OrgID: w.op.ID, OrgKind: csphub.OrgOperator, MFAPassed: true}
		catalog := w.reviewer
		catalog.Roles = []string{csphub.RoleCatalogManager}
		refusedImport := map[string]csphub.Actor{
			"verification reviewer":               w.reviewer,
			"catalog manager":                     catalog,
			"operator token without a role":       tokenNoRole,
			"partner global admin":                w.partnerActor(w.frOrg, csphub.RoleGlobalAdmin),
			"partner claiming the operator role":  w.partnerActor(w.frOrg, csphub.RoleOperatorAdmin),
			"partner acting on the operator":      func() csphub.Actor { a := w.admin; a.OrgID = w.frOrg.ID; a.OnBehalfOf = w.frOrg.ID; return a }(),
			"operator admin acting for a partner": func() csphub.Actor { a := w.admin; a.OnBehalfOf = w.frOrg.ID; return a }(),
		}
		for name, a := range refusedImport {
			_, err := w.svc.ImportPartnerIDs(ctx, a, row)
			wantKind(t, err, csphub.KindForbidden, "operator_admin_required")
			_, err = w.svc.SetPartnerIDStatus(ctx, a, "1234567", csphub.PartnerIDInactive)
			wantKind(t, err, csphub.KindForbidden, "operator_admin_required")
			if a.HasRole(csphub.RoleVerificationReviewer) {
				continue
			}
			if _, err := w.svc.ListPartnerIDs(ctx, a, "", "", 10); csphub.ErrorKind(err) != csphub.KindForbidden {
				t.Errorf("%s lists partner IDs: %v", name, err)
			}
		}
		// A non-admin learns nothing about the input from the refusal.
		_, err := w.svc.ImportPartnerIDs(ctx, w.reviewer, nil)
		wantKind(t, err, csphub.KindForbidden, "operator_admin_required")
		if w.record("1234567").Status != csphub.PartnerIDActive || len(w.audit("partner_id.set_status")) != 0 {
			t.Error("a refused caller changed a status")
		}
		if p, err := w.svc.ListPartnerIDs(ctx, w.reviewer, "", "", 10); err != nil || len(p.Items) != 1 {
			t.Errorf("reviewer list: %+v %v", p, err)
		}
	})
}

func TestListPartnerIDsPagesAndSearches(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPIDWorld(t, engine)
		ctx := context.Background()
		w.importRows(PartnerIDRow{PartnerID: "5550002", LegalName: "Contoso SAS", Country: "FR"},
			PartnerIDRow{PartnerID: "5550001", LegalName: "Fabrikam 100% Ltd", Country: "GB"})
		w.clock.Advance(time.Minute)
		w.importRows(PartnerIDRow{PartnerID: "1230000", LegalName: "contoso Belgique", Country: "BE"},
			PartnerIDRow{PartnerID: "4440000", LegalName: "Northwind_Traders", Country: "DE"},
			PartnerIDRow{PartnerID: "123000", LegalName: "Tailspin", Country: "US", Status: "inactive"})

		var seen []string
		token := ""
		for pages := 0; ; pages++ {
			p, err := w.svc.ListPartnerIDs(ctx, w.admin, "", token, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range p.Items {
				seen = append(seen, it.PartnerID)
			}
			if p.NextPageToken == "" {
				if pages != 2 {
					t.Errorf("%d pages, want 3", pages+1)
				}
				break
			}
			token = p.NextPageToken
		}
		if want := []string{"5550001", "5550002", "123000", "1230000", "4440000"}; !slices.Equal(seen, want) {
			t.Fatalf("order %v, want %v (oldest first, then by ID)", seen, want)
		}
		search := func(q string) []string {
			t.Helper()
			p, err := w.svc.ListPartnerIDs(ctx, w.reviewer, q, "", 50)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, it := range p.Items {
				ids = append(ids, it.PartnerID)
			}
			return ids
		}
		for q, want := range map[string][]string{
			"123":        {"123000", "1230000"},
			" 1230000 ":  {"1230000"},
			"CONTOSO":    {"5550002", "1230000"},
			"contoso b":  {"1230000"},
			"fabrikam 1": {"5550001"},
			"%":          nil,
			"_":          nil,
			"northwind_": {"4440000"},
			"230":        nil,
		} {
			if got := search(q); !slices.Equal(got, want) {
				t.Errorf("q=%q: %v, want %v", q, got, want)
			}
		}
		_, err := w.svc.ListPartnerIDs(ctx, w.admin, "", "garbage", 10)
		wantKind(t, err, csphub.KindInvalid, "invalid_input")
		_, err = w.svc.ListPartnerIDs(ctx, w.admin, "", encodeKeyset(store.Keyset{At: time.Now(), ID: csphub.NewID()}), 10)
		wantKind(t, err, csphub.KindInvalid, "invalid_input")
		_, err = w.svc.ListPartnerIDs(ctx, w.admin, strings.Repeat("a", 201), "", 10)
		wantKind(t, err, csphub.KindInvalid, "invalid_input")
		if p, err := w.svc.ListPartnerIDs(ctx, w.admin, "", "", 0); err != nil || len(p.Items) != 5 || p.NextPageToken != "" {
			t.Errorf("default page size: %+v %v", p, err)
		}
	})
}

func TestSetPartnerIDStatus(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPIDWorld(t, engine)
		ctx := context.Background()
		w.claimCode("1234567", "FR")
		p, err := w.svc.SetPartnerIDStatus(ctx, w.admin, "1234567", csphub.PartnerIDInactive)
		if err != nil || p.Status != csphub.PartnerIDInactive || w.record("1234567").Status != csphub.PartnerIDInactive {
			t.Fatalf("deactivate: %+v %v", p, err)
		}
		if _, err := w.svc.SetPartnerIDStatus(ctx, w.admin, "1234567", csphub.PartnerIDInactive); err != nil {
			t.Fatal(err)
		}
		recs := w.audit("partner_id.set_status")
		if len(recs) != 1 || !strings.Contains(string(recs[0].Before), `"status":"active"`) || !strings.Contains(string(recs[0].After), `"status":"inactive"`) {
			t.Fatalf("audit: %+v", recs)
		}
		if n := len(w.events("partner_id.status_changed")); n != 1 {
			t.Errorf("%d events", n)
		}
		if p, err := w.svc.SetPartnerIDStatus(ctx, w.admin, "1234567", csphub.PartnerIDActive); err != nil || p.Status != csphub.PartnerIDActive {
			t.Fatalf("reactivate: %+v %v", p, err)
		}
		_, err = w.svc.SetPartnerIDStatus(ctx, w.admin, "1234567", "paused")
		if e := wantKind(t, err, csphub.KindInvalid, "invalid_input"); e.Fields[0].Code != "invalid_status" {
			t.Errorf("bad status: %+v", e.Fields)
		}
		_, err = w.svc.SetPartnerIDStatus(ctx, w.admin, "7654321", csphub.PartnerIDInactive)
		wantKind(t, err, csphub.KindNotFound, "partner_id_not_found")
		_, err = w.svc.SetPartnerIDStatus(ctx, w.admin, "../etc", csphub.PartnerIDInactive)
		wantKind(t, err, csphub.KindNotFound, "partner_id_not_found")
	})
}

func TestParsePartnerIDCSV(t *testing.T) {
	in := "\ufeffLegal Name, STATUS ,Partner_ID,country\r\n" +
		"Contoso SAS,active,1234567,FR\r\n" +
		"\r\n" +
		"\"Fabrikam, \"\"Quoted\"\"\nLtd\",,7654321,GB\r\n" +
		"Short row,1111111,FR\r\n" +
		"Bad \"quote,active,2222222,FR\r\n" +
		"Northwind,inactive,3333333,de\r\n"
	rows, errs := ParsePartnerIDCSV(strings.NewReader(in))
	want := []PartnerIDRow{
		{Row: 2, PartnerID: "1234567", LegalName: "Contoso SAS", Country: "FR", Status: "active"},
		{Row: 4, PartnerID: "7654321", LegalName: "Fabrikam, \"Quoted\"\nLtd", Country: "GB", Status: ""},
		{Row: 8, PartnerID: "3333333", LegalName: "Northwind", Country: "de", Status: "inactive"},
	}
	if !slices.Equal(rows, want) {
		t.Errorf("rows:\n%+v\nwant\n%+v", rows, want)
	}
	if len(errs) != 2 || errs[0].Row != 6 || errs[0].Code != "wrong_field_count" || errs[1].Row != 7 || errs[1].Code != "malformed_row" {
		t.Errorf("errors: %+v", errs)
	}

	// Without status, every row defaults to active at import.
	rows, errs = ParsePartnerIDCSV(strings.NewReader("partner_id,legal_name,country\n1234567,Contoso,FR\n"))
	if len(errs) != 0 || len(rows) != 1 || rows[0].Status != "" || rows[0].Row != 2 {
		t.Errorf("no status column: %+v %+v", rows, errs)
	}

	for name, c := range map[string]struct {
		in    string
		codes []string
	}{
		"empty":          {"", []string{"missing_header"}},
		"blank lines":    {"\n\n", []string{"missing_header"}},
		"missing column": {"partner_id,legal_name\n1234567,Contoso\n", []string{"missing_column"}},
		"unknown column": {"partner_id,legal_name,country,region\n1234567,Contoso,FR,EU\n", []string{"unknown_column"}},
		"duplicate":      {"partner_id,legal_name,country,Country\n", []string{"duplicate_column"}},
		"no header":      {"1234567,Contoso,FR\n", []string{"unknown_column", "unknown_column", "unknown_column", "missing_column", "missing_column", "missing_column"}},
		"bad header":     {"partner_id,\"legal\"name,country\n", []string{"malformed_row"}},
	} {
		rows, errs := ParsePartnerIDCSV(strings.NewReader(c.in))
		var got []string
		for _, e := range errs {
			got = append(got, e.Code)
			if e.Row != 1 || e.Message == "" {
				t.Errorf("%s: error %+v does not name row 1", name, e)
			}
		}
		if len(rows) != 0 || !slices.Equal(got, c.codes) {
			t.Errorf("%s: rows %+v errors %v, want %v", name, rows, got, c.codes)
		}
	}
}

func TestClaimCodesAreTypeable(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		code, hash, err := newClaimCode()
		if err != nil || !claimCodeFormat.MatchString(code) || seen[code] || hash != hashClaimCode(code) {
			t.Fatalf("code %q hash %q err %v", code, hash, err)
		}
		seen[code] = true
	}
	code := "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY-Z2345"
	for _, typed := range []string{
		"abcde fghij klmno pqrst uvwxy z2345",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ2345",
		" abcde–fghij—klmno-pqrst\u2212uvwxy-z2345\n",
		"A8CDE-FGH1J-KLMN0-PQRST-UVWXY-Z2345",
	} {
		if hashClaimCode(typed) != hashClaimCode(code) {
			t.Errorf("%q does not match %q", typed, code)
		}
	}
	if hashClaimCode("ABCDE-FGHIJ-KLMNO-PQRST-UVWXY-Z2346") == hashClaimCode(code) {
		t.Error("another code matches")
	}
}

// claim runs claimPartnerID in its own transaction, as the enrollment does.
func (w *pidWorld) claim(org csphub.Organization, country, id, code string) (csphub.PartnerID, []csphub.FieldError) {
	w.t.Helper()
	var p csphub.PartnerID
	var fields []csphub.FieldError
	if err := w.db.Write(context.Background(), func(tx *store.Tx) (err error) {
		p, fields, err = w.svc.claimPartnerID(tx, org.ID, country, id, code)
		return err
	}); err != nil {
		w.t.Fatal(err)
	}
	return p, fields
}

func wantFields(t *testing.T, fields []csphub.FieldError, want ...string) {
	t.Helper()
	var got []string
	for _, f := range fields {
		got = append(got, f.Field+":"+f.Code)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("fields %+v, want %v", fields, want)
	}
}

func TestClaimPartnerID(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPIDWorld(t, engine)
		ctx := context.Background()
		code := w.claimCode("1234567", "FR")
		deCode := w.claimCode("7654321", "DE")
		otherCode := w.claimCode("2345678", "FR")

		// Unknown ID and wrong code: the same answer, on the claim code.
		_, unknown := w.claim(w.frOrg, "FR", "9999999", code)
		_, wrong := w.claim(w.frOrg, "FR", "1234567", otherCode)
		wantFields(t, unknown, "claim_code:claim_failed")
		if !slices.Equal(unknown, wrong) || unknown[0].Message != "the partner ID and claim code do not match" {
			t.Fatalf("unknown %+v and wrong %+v differ", unknown, wrong)
		}
		_, f := w.claim(w.frOrg, "FR", "1234567", strings.Repeat("A", 200))
		wantFields(t, f, "claim_code:claim_failed")
		_, f = w.claim(w.frOrg, "FR", "1234567", "  ")
		wantFields(t, f, "claim_code:required")
		_, f = w.claim(w.frOrg, "FR", "01234567", code)
		wantFields(t, f, "partner_id:invalid_partner_id")
		_, f = w.claim(w.frOrg, "FR", "", code)
		wantFields(t, f, "partner_id:required")

		// Another country: refused with both countries named.
		_, f = w.claim(w.frOrg, "FR", "7654321", deCode)
		wantFields(t, f, "partner_id:partner_id_location")
		if f[0].Message != "the partner ID's location (DE) must be in the same country or region as your account (FR)" {
			t.Errorf("location message %q", f[0].Message)
		}
		if w.record("7654321").OrgID != "" {
			t.Fatal("a refused claim linked the ID")
		}

		// The code as a person types it links the ID.
		typed := strings.ToLower(strings.ReplaceAll(code, "-", " "))
		before := w.clock.Now()
		p, f := w.claim(w.frOrg, "FR", " 1234567 ", typed)
		if len(f) != 0 || p.OrgID != w.frOrg.ID || p.LinkedAt == nil || !p.LinkedAt.Equal(before) {
			t.Fatalf("claim: %+v %+v", p, f)
		}
		rec := w.record("1234567")
		if rec.OrgID != w.frOrg.ID || rec.LinkedAt == nil || rec.ClaimCodeHash != hashClaimCode(code) || rec.Status != csphub.PartnerIDActive {
			t.Fatalf("stored: %+v", rec)
		}
		// Again for the same organization: nothing changes.
		w.clock.Advance(time.Hour)
		p, f = w.claim(w.frOrg, "FR", "1234567", code)
		if len(f) != 0 || p.OrgID != w.frOrg.ID || !w.record("1234567").LinkedAt.Equal(before) {
			t.Fatalf("claim again: %+v %+v", p, f)
		}
		// Another organization: taken.
		_, f = w.claim(w.frOrg2, "FR", "1234567", code)
		wantFields(t, f, "partner_id:partner_id_taken")
		// An organization with an ID cannot link a second one.
		_, f = w.claim(w.frOrg, "FR", "2345678", otherCode)
		wantFields(t, f, "partner_id:organization_has_partner_id")

		// Inactive: refused, once the code matched.
		if _, err := w.svc.SetPartnerIDStatus(ctx, w.admin, "2345678", csphub.PartnerIDInactive); err != nil {
			t.Fatal(err)
		}
		_, f = w.claim(w.frOrg2, "FR", "2345678", otherCode)
		wantFields(t, f, "partner_id:partner_id_inactive")
		_, f = w.claim(w.frOrg2, "FR", "2345678", code)
		wantFields(t, f, "claim_code:claim_failed")
		if _, err := w.svc.SetPartnerIDStatus(ctx, w.admin, "2345678", csphub.PartnerIDActive); err != nil {
			t.Fatal(err)
		}
		if p, f := w.claim(w.frOrg2, "FR", "2345678", otherCode); len(f) != 0 || p.OrgID != w.frOrg2.ID {
			t.Fatalf("claim after reactivation: %+v %+v", p, f)
		}
	})
}

// Two organizations claiming one ID at the same moment: exactly one wins.
func TestClaimPartnerIDConcurrently(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPIDWorld(t, engine)
		code := w.claimCode("1234567", "FR")
		orgs := []csphub.Organization{w.frOrg, w.frOrg2}
		for i := range 4 {
			orgs = append(orgs, w.partner(fmt.Sprint("Racer ", i), "FR", fmt.Sprintf("racer%d.example", i)))
		}
		var wg sync.WaitGroup
		results := make([][]csphub.FieldError, len(orgs))
		errs := make([]error, len(orgs))
		start := make(chan struct{})
		for i, org := range orgs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = w.db.Write(context.Background(), func(tx *store.Tx) (err error) {
					_, results[i], err = w.svc.claimPartnerID(tx, org.ID, "FR", "1234567", code)
					return err
				})
			}()
		}
		close(start)
		wg.Wait()
		winners := 0
		for i := range orgs {
			if errs[i] != nil {
				t.Fatalf("claim %d: %v", i, errs[i])
			}
			if len(results[i]) == 0 {
				winners++
				if w.record("1234567").OrgID != orgs[i].ID {
					t.Errorf("winner %d is not the linked organization", i)
				}
			} else {
				wantFields(t, results[i], "partner_id:partner_id_taken")
			}
		}
		if winners != 1 {
			t.Fatalf("%d organizations linked the ID", winners)
		}
	})
}

func TestIssuePartnerID(t *testing.T) {
	testdb.Each(t, func(t *testing.T, engine string) {
		w := newPIDWorld(t, engine)
		issue := func(org csphub.Organization) (csphub.PartnerID, error) {
			var p csphub.PartnerID
			err := w.db.Write(context.Background(), func(tx *store.Tx) (err error) {
				p, err = w.svc.issuePartnerID(tx, org.ID, org.Name+" SAS", org.Country)
				return err
			})
			return p, err
		}
		p, err := issue(w.frOrg)
		if err != nil || !regexp.MustCompile(`^[1-9][0-9]{6}$`).MatchString(p.PartnerID) || p.OrgID != w.frOrg.ID ||
			p.Source != "issued" || p.Status != csphub.PartnerIDActive || p.LegalName != "Contoso SAS" || p.Country != "FR" || p.LinkedAt == nil {
			t.Fatalf("issued %+v %v", p, err)
		}
		rec := w.record(p.PartnerID)
		if rec.OrgID != w.frOrg.ID || rec.ClaimCodeHash != "" || rec.Source != "issued" {
			t.Fatalf("stored %+v", rec)
		}
		_, err = issue(w.frOrg)
		wantKind(t, err, csphub.KindConflict, "organization_has_partner_id")

		// A draw that collides with a taken ID is drawn again.
		w.claimCode("5555555", "FR")
		draws := []string{"5555555", p.PartnerID, "6666666"}
		orig := drawPartnerID
		t.Cleanup(func() { drawPartnerID = orig })
		drawPartnerID = func() (string, error) {
			d := draws[0]
			draws = draws[1:]
			return d, nil
		}
		p2, err := issue(w.deOrg)
		if err != nil || p2.PartnerID != "6666666" || p2.OrgID != w.deOrg.ID || len(draws) != 0 {
			t.Fatalf("after collisions: %+v %v (draws left %v)", p2, err, draws)
		}
		if w.record("5555555").OrgID != "" || w.record("5555555").LegalName != "Legal 5555555" {
			t.Fatal("a collision changed the taken ID")
		}
		// Nothing free: an error, nothing linked.
		drawPartnerID = func() (string, error) { return "5555555", nil }
		if _, err := issue(w.frOrg2); err == nil {
			t.Fatal("issued a taken ID")
		}
		var id string
		if err := w.db.Read(context.Background(), func(tx *store.Tx) (err error) {
			id, err = tx.PartnerIDOfOrganization(w.frOrg2.ID)
			return err
		}); err != nil || id != "" {
			t.Fatalf("org 2 has %q %v", id, err)
		}
	})
}
