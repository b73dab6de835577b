package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"csphub"
	"csphub/internal/service"
)

// orderAccess: who may call the order and subscription routes. Placing
// orders and changing subscriptions checks the six rules (rule 6 is the
// role) in the use case, and runs through a delegated admin grant that
// carries the role; reads are scoped by the use cases to the caller's own
// orders and subscriptions (provider, reseller of record, customer), or all
// of them for the operator.
var orderAccess = map[string]Access{
	"POST /api/v1/customers/{id}/orders":       {Delegable: true},
	"GET /api/v1/customers/{id}/orders":        authenticated,
	"GET /api/v1/orders":                       authenticated,
	"GET /api/v1/orders/{id}":                  authenticated,
	"GET /api/v1/customers/{id}/subscriptions": authenticated,
	"GET /api/v1/subscriptions":                authenticated,
	"GET /api/v1/subscriptions/{id}":           authenticated,
	"PATCH /api/v1/subscriptions/{id}":         {Delegable: true},
}

func (a *API) orderRoutes() {
	tags := []string{"orders"}
	register(a, huma.Operation{
		OperationID: "placeOrder", Method: http.MethodPost, Path: "/api/v1/customers/{id}/orders",
		Summary: "Place an order for a customer (indirect provider)",
		Description: "`Idempotency-Key` is required (400 `idempotency_key_required`). Each line names its reseller of record by partner " +
			"ID (422 `reseller_of_record_required` when missing). The order is refused, with nothing written, naming the first rule " +
			"that fails: 1 `provider_not_eligible`, 2 `partnership_not_active`, 3 `reseller_not_eligible`, 4 " +
			"`customer_relationship_missing`, 5 `offer_not_sold_to_customer` (422), 6 `order_role_required` (403: admin agent or " +
			"sales agent, directly or through a grant). A completed order creates one subscription per line.",
		Tags: tags, DefaultStatus: http.StatusCreated,
	}, a.placeOrder)
	register(a, huma.Operation{
		OperationID: "listCustomerOrders", Method: http.MethodGet, Path: "/api/v1/customers/{id}/orders",
		Summary: "A customer's orders that you may see", Tags: tags,
	}, a.listCustomerOrders)
	register(a, huma.Operation{
		OperationID: "listOrders", Method: http.MethodGet, Path: "/api/v1/orders",
		Summary: "The orders you may see, newest first",
		Description: "A provider its own; a reseller those with a line naming it; a customer its own; the operator all. Filters: " +
			"`customer_id`, `reseller_id`, `state`.",
		Tags: tags,
	}, a.listOrders)
	register(a, huma.Operation{
		OperationID: "getOrder", Method: http.MethodGet, Path: "/api/v1/orders/{id}",
		Summary: "Read one order you may see", Tags: tags,
	}, a.getOrder)
	register(a, huma.Operation{
		OperationID: "listCustomerSubscriptions", Method: http.MethodGet, Path: "/api/v1/customers/{id}/subscriptions",
		Summary: "A customer's subscriptions that you may see", Tags: tags,
	}, a.listCustomerSubscriptions)
	register(a, huma.Operation{
		OperationID: "listSubscriptions", Method: http.MethodGet, Path: "/api/v1/subscriptions",
		Summary: "The subscriptions you may see, newest first",
		Description: "A provider its own; a reseller those naming it as reseller of record (read-only); a customer its own (read-only); " +
			"the operator all. Filters: `customer_id`, `reseller_id`, `status`, `offer_id`.",
		Tags: tags,
	}, a.listSubscriptions)
	register(a, huma.Operation{
		OperationID: "getSubscription", Method: http.MethodGet, Path: "/api/v1/subscriptions/{id}",
		Summary: "Read one subscription you may see", Tags: tags,
	}, a.getSubscription)
	register(a, huma.Operation{
		OperationID: "updateSubscription", Method: http.MethodPatch, Path: "/api/v1/subscriptions/{id}",
		Summary: "Change a subscription (indirect provider): quantity, status, auto-renewal, reseller of record",
		Description: "Quantity within the offer's limits; `suspended`, `active` (reactivate: the chain of rules 2 to 4 must still hold); " +
			"`cancelled` cancels within 7 days of purchase or renewal, and later turns off auto-renewal instead. A new reseller of record " +
			"must be an active reseller of the same customer with this provider. Resellers and customers only read subscriptions.",
		Tags: tags,
	}, a.updateSubscription)
}

type placeOrderInput struct {
	ID             string `path:"id" maxLength:"36" doc:"The customer"`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Required: the same key and body replay the first response, and never place a second order"`
	Body           service.PlaceOrderInput
}

type orderOutput struct{ Body csphub.Order }

func (a *API) placeOrder(ctx context.Context, in *placeOrderInput) (*orderOutput, error) {
	if in.IdempotencyKey == "" {
		return nil, newProblem(http.StatusBadRequest, "idempotency_key_required", "orders require an Idempotency-Key header, so that a retry never orders twice")
	}
	o, err := a.svc.PlaceOrder(ctx, actorFrom(ctx), in.ID, in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &orderOutput{Body: o}, nil
}

type listOrdersInput struct {
	CustomerID string `query:"customer_id" maxLength:"36"`
	ResellerID string `query:"reseller_id" maxLength:"36"`
	State      string `query:"state" enum:"pending,completed,failed,cancelled"`
	PageSize   int    `query:"page_size" minimum:"1" maximum:"500" default:"50"`
	PageToken  string `query:"page_token" maxLength:"200"`
}

type customerOrdersInput struct {
	ID string `path:"id" maxLength:"36"`
	listOrdersInput
}

type orderPageOutput struct{ Body service.OrderPage }

func (a *API) listOrders(ctx context.Context, in *listOrdersInput) (*orderPageOutput, error) {
	p, err := a.svc.ListOrders(ctx, actorFrom(ctx), service.OrderQuery{CustomerID: in.CustomerID, ResellerID: in.ResellerID,
		State: in.State, PageToken: in.PageToken, PageSize: in.PageSize})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &orderPageOutput{Body: p}, nil
}

func (a *API) listCustomerOrders(ctx context.Context, in *customerOrdersInput) (*orderPageOutput, error) {
	in.CustomerID = in.ID
	return a.listOrders(ctx, &in.listOrdersInput)
}

type orderIDInput struct {
	ID string `path:"id" maxLength:"36"`
}

func (a *API) getOrder(ctx context.Context, in *orderIDInput) (*orderOutput, error) {
	o, err := a.svc.GetOrder(ctx, actorFrom(ctx), in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &orderOutput{Body: o}, nil
}

type listSubscriptionsInput struct {
	CustomerID string `query:"customer_id" maxLength:"36"`
	ResellerID string `query:"reseller_id" maxLength:"36"`
	Status     string `query:"status" enum:"active,suspended,cancelled,expired"`
	OfferID    string `query:"offer_id" maxLength:"36"`
	PageSize   int    `query:"page_size" minimum:"1" maximum:"500" default:"50"`
	PageToken  string `query:"page_token" maxLength:"200"`
}

type customerSubscriptionsInput struct {
	ID string `path:"id" maxLength:"36"`
	listSubscriptionsInput
}

type subscriptionPageOutput struct{ Body service.SubscriptionPage }

func (a *API) listSubscriptions(ctx context.Context, in *listSubscriptionsInput) (*subscriptionPageOutput, error) {
	p, err := a.svc.ListSubscriptions(ctx, actorFrom(ctx), service.SubscriptionQuery{CustomerID: in.CustomerID, ResellerID: in.ResellerID,
		Status: in.Status, OfferID: in.OfferID, PageToken: in.PageToken, PageSize: in.PageSize})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &subscriptionPageOutput{Body: p}, nil
}

func (a *API) listCustomerSubscriptions(ctx context.Context, in *customerSubscriptionsInput) (*subscriptionPageOutput, error) {
	in.CustomerID = in.ID
	return a.listSubscriptions(ctx, &in.listSubscriptionsInput)
}

type subscriptionOutput struct{ Body csphub.Subscription }

func (a *API) getSubscription(ctx context.Context, in *orderIDInput) (*subscriptionOutput, error) {
	s, err := a.svc.GetSubscription(ctx, actorFrom(ctx), in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &subscriptionOutput{Body: s}, nil
}

type updateSubscriptionInput struct {
	ID   string `path:"id" maxLength:"36"`
	Body service.SubscriptionChange
}

func (a *API) updateSubscription(ctx context.Context, in *updateSubscriptionInput) (*subscriptionOutput, error) {
	s, err := a.svc.UpdateSubscription(ctx, actorFrom(ctx), in.ID, in.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &subscriptionOutput{Body: s}, nil
}
