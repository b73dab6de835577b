package api

import (
	"context"

	"csphub/internal/service"
)

type sendTestEmailInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Retry-safe key: the same key and body replay the first response"`
	Body           service.TestEmailRequest
}

type sendTestEmailOutput struct {
	Body service.TestEmail
}

func (a *API) sendTestEmail(ctx context.Context, in *sendTestEmailInput) (*sendTestEmailOutput, error) {
	out, err := a.svc.SendTestEmail(ctx, actorFrom(ctx), in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &sendTestEmailOutput{Body: out}, nil
}
