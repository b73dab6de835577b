package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"csphub/internal/service"
)

func (a *API) auditRoutes() {
	register(a, huma.Operation{
		OperationID: "listAuditRecords", Method: http.MethodGet, Path: "/api/v1/audit-records",
		Summary:     "Read your organization's audit log",
		Description: "Hash-chained records of every change, oldest first, after the given position. `action_prefix=session.` gives the security log: sign-ins, failed sign-ins, MFA.",
		Tags:        []string{"audit"},
	}, a.listAuditRecords)
}

type listAuditInput struct {
	After        int64  `query:"after" minimum:"0" doc:"Return records after this position"`
	PageSize     int    `query:"page_size" minimum:"1" maximum:"500" default:"50"`
	ActionPrefix string `query:"action_prefix" maxLength:"64" doc:"Only actions starting with this, e.g. session."`
}

type listAuditOutput struct{ Body service.AuditPage }

func (a *API) listAuditRecords(ctx context.Context, in *listAuditInput) (*listAuditOutput, error) {
	p, err := a.svc.ListAuditRecords(ctx, actorFrom(ctx), in.After, in.PageSize, in.ActionPrefix)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &listAuditOutput{Body: p}, nil
}
