package api

import (
	"context"
	"net/http"

	"csphub/internal/service"
)

type startTOTPOutput struct{ Body service.TOTPEnrollment }

func (a *API) startTOTP(ctx context.Context, _ *struct{}) (*startTOTPOutput, error) {
	en, err := a.svc.StartTOTPEnrollment(ctx, actorFrom(ctx))
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &startTOTPOutput{Body: en}, nil
}

type mfaCodeInput struct {
	Body struct {
		Code string `json:"code" minLength:"1" maxLength:"32" doc:"The 6-digit code from the authenticator app, or a recovery code"`
	}
}

type mfaOutput struct {
	SetCookie http.Cookie `header:"Set-Cookie"`
	Body      service.MFAResult
}

func (a *API) verifyTOTP(ctx context.Context, in *mfaCodeInput) (*mfaOutput, error) {
	res, err := a.svc.VerifyTOTP(ctx, actorFrom(ctx), tokenFrom(ctx), in.Body.Code)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &mfaOutput{SetCookie: a.sessionCookie(res.SessionToken, res.ExpiresAt), Body: res}, nil
}

func (a *API) redeemRecoveryCode(ctx context.Context, in *mfaCodeInput) (*mfaOutput, error) {
	res, err := a.svc.RedeemRecoveryCode(ctx, actorFrom(ctx), tokenFrom(ctx), in.Body.Code)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &mfaOutput{SetCookie: a.sessionCookie(res.SessionToken, res.ExpiresAt), Body: res}, nil
}
