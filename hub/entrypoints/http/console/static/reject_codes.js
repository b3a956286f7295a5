// NCPDP D.0 511-FB reject codes in words (the common ones; the full list is NCPDP's licensed External
// Code List). Kept in step with adapters/ncpdp/d0/reject_codes.py until the queue items carry the text.
"use strict";

const REJECT_TEXTS = {
  "01": "Missing or invalid BIN", "04": "Missing or invalid processor control number (PCN)",
  "05": "Missing or invalid pharmacy number", "06": "Missing or invalid group ID",
  "07": "Missing or invalid cardholder ID", "08": "Missing or invalid person code",
  "09": "Missing or invalid date of birth", "15": "Missing or invalid date of service",
  "19": "Missing or invalid days supply: resubmit with the days supply",
  "21": "Missing or invalid product (NDC)", "25": "Missing or invalid prescriber ID",
  "28": "Missing or invalid date written", "41": "Bill the other (primary) payer first",
  "65": "Patient is not covered", "70": "Product not covered by the plan: bill as cash or ask for an alternative",
  "71": "Prescriber is not covered", "75": "Prior authorization required: resubmit with the PA number",
  "76": "Plan limitations exceeded (quantity or days supply)", "77": "Discontinued product",
  "78": "Cost exceeds the plan's maximum", "79": "Refill too soon", "83": "Duplicate of a paid claim",
  "85": "Claim not processed", "88": "DUR reject: a pharmacist must resubmit with DUR/PPS codes",
  "92": "Payer system unavailable", "99": "Payer host processing error",
};

function rejectText(code) {
  return REJECT_TEXTS[code] || "Reject code " + code + " (see the payer sheet)";
}
