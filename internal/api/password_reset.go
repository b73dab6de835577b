package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"csphub/internal/service"
)

func (a *API) passwordResetRoutes() {
	register(a, huma.Operation{
		OperationID: "requestPasswordReset", Method: http.MethodPost, Path: "/api/v1/password-resets",
		Summary:       "Email a single-use link to choose a new password",
		Description:   "Answers 202 whether or not the email has an account. The link expires after 30 minutes; requests are limited per email.",
		Tags:          []string{"identity"},
		DefaultStatus: http.StatusAccepted,
	}, a.requestPasswordReset)
	register(a, huma.Operation{
		OperationID: "completePasswordReset", Method: http.MethodPost, Path: "/api/v1/password-resets/{token}",
		Summary:       "Choose a new password with an emailed link's token",
		Description:   "The token works once. Every session of the user ends; signing in again still requires multi-factor authentication where it applies.",
		Tags:          []string{"identity"},
		DefaultStatus: http.StatusNoContent,
	}, a.completePasswordReset)
}

type requestResetInput struct {
	Body service.PasswordResetRequest
}

func (a *API) requestPasswordReset(ctx context.Context, in *requestResetInput) (*struct{}, error) {
	if err := a.svc.RequestPasswordReset(ctx, in.Body); err != nil {
		return nil, a.fail(ctx, err)
	}
	return nil, nil
}

type completeResetInput struct {
	Token string `path:"token" maxLength:"128"`
	Body  service.CompletePasswordResetInput
}

func (a *API) completePasswordReset(ctx context.Context, in *completeResetInput) (*struct{}, error) {
	if err := a.svc.CompletePasswordReset(ctx, in.Token, in.Body); err != nil {
		return nil, a.fail(ctx, err)
	}
	return nil, nil
}
