#!/usr/bin/env bash
# One order from placement to a partial return, over HTTP with curl (README: "A whole order, step by step").
# Start the server first with the three secrets below, for example:
#   ADMIN_USERNAME=admin ADMIN_EMAIL=admin@example.com ADMIN_PASSWORD=change-me-please \
#   PAYMENT_WEBHOOK_SECRET=whsec_pay CARRIER_WEBHOOK_SECRET=whsec_carrier DATABASE_URL=memory:// npm start
set -euo pipefail
API=${API:-http://127.0.0.1:3000}
PAY_SECRET=${PAY_SECRET:-whsec_pay}
CARRIER_SECRET=${CARRIER_SECRET:-whsec_carrier}
json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(eval("v"+process.argv[1]))})' "$1"; }
post() { curl -sf -X POST "$API$1" -H "authorization: Bearer $2" -H 'content-type: application/json' -d "$3"; }
# Signs a webhook body as the test gateway and the carriers do: t=<seconds>,v1=<hex HMAC-SHA256 of "t.body">.
signed() {
  local t sig; t=$(date +%s)
  sig=$(printf '%s.%s' "$t" "$3" | openssl dgst -sha256 -hmac "$2" -hex | sed 's/^.*= //')
  curl -sf -X POST "$API$1" -H 'content-type: application/json' -H "Store-Signature: t=$t,v1=$sig" -d "$3"
}
say() { printf '\n== %s\n' "$*"; }

ADMIN=$(post /auth/login "" '{"username":"admin","password":"change-me-please"}' | json .access_token)
MUG=$(post /products "$ADMIN" '{"sku":"WALK-MUG","name":"Walkthrough mug","price":1200,"stock":10}' | json .id)
TEE=$(post /products "$ADMIN" '{"sku":"WALK-TEE","name":"Walkthrough tee","price":2500,"stock":5}' | json .id)

say "a customer signs up, logs in, adds an address and orders 2 mugs and 1 tee"
post /customers "" '{"username":"walker","password":"walking-is-good","email_id":"walker@example.com","first_name":"Wanda","last_name":"Walker"}' >/dev/null
ME=$(post /auth/login "" '{"username":"walker","password":"walking-is-good"}' | json .access_token)
HOME_ID=$(post /contacts "$ME" '{"address_line1":"1 Long Road","city":"Leeds","country":"GB"}' | json .id)
ORDER=$(post /orders "$ME" "{\"items\":[{\"product_id\":$MUG,\"quantity\":2},{\"product_id\":$TEE,\"quantity\":1}],\"shipping_contact_id\":$HOME_ID}")
ORDER_ID=$(echo "$ORDER" | json .id); MUG_ITEM=$(echo "$ORDER" | json '.items[0].id'); TEE_ITEM=$(echo "$ORDER" | json '.items[1].id')
echo "order $ORDER_ID: $(echo "$ORDER" | json .status), total $(echo "$ORDER" | json .total)"

say "it pays with a card that settles later, and the gateway's webhook settles it (sent twice: applied once)"
PAYMENT=$(post "/orders/$ORDER_ID/payments" "$ME" '{"provider":"test","payment_method":"pm_card_async"}')
REF=$(echo "$PAYMENT" | json .provider_reference)
EVENT="{\"id\":\"evt_walk_1\",\"type\":\"payment.succeeded\",\"provider_reference\":\"$REF\",\"amount\":4900}"
signed /webhooks/payments/test "$PAY_SECRET" "$EVENT" >/dev/null
signed /webhooks/payments/test "$PAY_SECRET" "$EVENT" >/dev/null
curl -sf "$API/orders/$ORDER_ID" -H "authorization: Bearer $ME" | json '.status + " " + v.payment_status + " " + v.amount_paid'

say "staff ship it in two parcels"
post "/orders/$ORDER_ID/shipments" "$ADMIN" "{\"carrier\":\"dhl\",\"tracking_number\":\"WALK-1\",\"items\":[{\"order_item_id\":$MUG_ITEM,\"quantity\":2}]}" >/dev/null
post "/orders/$ORDER_ID/shipments" "$ADMIN" "{\"carrier\":\"ups\",\"tracking_number\":\"WALK-2\",\"items\":[{\"order_item_id\":$TEE_ITEM,\"quantity\":1}]}" >/dev/null
curl -sf "$API/orders/$ORDER_ID" -H "authorization: Bearer $ME" | json '.status + " " + v.fulfillment_status'

say "carriers report tracking events, late, twice and out of order"
NOW=$(date -u +%s)
at() { date -u -d "@$((NOW + $1))" +%Y-%m-%dT%H:%M:%SZ; }
signed /webhooks/carriers/dhl "$CARRIER_SECRET" "{\"id\":\"dhl-2\",\"tracking_number\":\"WALK-1\",\"status\":\"delivered\",\"occurred_at\":\"$(at 120)\",\"location\":\"Leeds\"}" >/dev/null
signed /webhooks/carriers/dhl "$CARRIER_SECRET" "{\"id\":\"dhl-1\",\"tracking_number\":\"WALK-1\",\"status\":\"in_transit\",\"occurred_at\":\"$(at 60)\",\"location\":\"Hull\"}" >/dev/null
signed /webhooks/carriers/dhl "$CARRIER_SECRET" "{\"id\":\"dhl-1\",\"tracking_number\":\"WALK-1\",\"status\":\"in_transit\",\"occurred_at\":\"$(at 60)\",\"location\":\"Hull\"}" >/dev/null
signed /webhooks/carriers/ups "$CARRIER_SECRET" "{\"id\":\"ups-1\",\"tracking_number\":\"WALK-2\",\"status\":\"delivered\",\"occurred_at\":\"$(at 90)\",\"location\":\"Leeds\"}" >/dev/null
curl -sf "$API/orders/$ORDER_ID/shipments" -H "authorization: Bearer $ME" | json '.map(s => s.tracking_number + ": " + s.status + " (" + s.events.length + " events)").join(", ")'
curl -sf "$API/orders/$ORDER_ID" -H "authorization: Bearer $ME" | json '.status + ", delivered at " + v.delivered_at'

say "the customer returns one mug; staff receive it: back in stock and refunded"
RETURN_ID=$(post "/orders/$ORDER_ID/returns" "$ME" "{\"items\":[{\"order_item_id\":$MUG_ITEM,\"quantity\":1}],\"reason\":\"chipped\"}" | json .id)
post "/returns/$RETURN_ID/receive" "$ADMIN" '' | json '.status + ", refunded " + v.refund_amount'
curl -sf "$API/orders/$ORDER_ID" -H "authorization: Bearer $ME" | json '.status + " " + v.payment_status + " " + v.amount_paid'
curl -sf "$API/products/$MUG" | json '"mug stock " + v.stock'
curl -sf "$API/products/$MUG/inventory-movements" -H "authorization: Bearer $ADMIN" | json '.map(m => m.type + " " + m.quantity).join(", ")'
