"""Synthetic SCRIPT requests for the door tests (no real people; the NPI passes its check digit)."""

from __future__ import annotations

from datetime import date

PRESCRIBER = ("D", "9988776655001")
PHARMACY = ("P", "7654321")
_ROOT = (
    '<Message xmlns="http://www.ncpdp.org/schema/SCRIPT" DatatypesVersion="20170715" '
    'TransportVersion="20170715" TransactionDomain="SCRIPT" TransactionVersion="20170715" '
    'StructuresVersion="20170715" ECLVersion="20170715">'
)


def _header(
    message_id: str,
    *,
    order: str | None = None,
    relates_to: str | None = None,
    rx_number: str | None = None,
    sent: str = "2026-01-15T09:30:00Z",
) -> str:
    parts = [
        f'<To Qualifier="{PHARMACY[0]}">{PHARMACY[1]}</To>',
        f'<From Qualifier="{PRESCRIBER[0]}">{PRESCRIBER[1]}</From>',
        f"<MessageID>{message_id}</MessageID>",
        f"<RelatesToMessageID>{relates_to}</RelatesToMessageID>" if relates_to else "",
        f"<SentTime>{sent}</SentTime>",
        "<SenderSoftware><SenderSoftwareDeveloper>Test</SenderSoftwareDeveloper>"
        "<SenderSoftwareProduct>Test EHR</SenderSoftwareProduct>"
        "<SenderSoftwareVersionRelease>1</SenderSoftwareVersionRelease></SenderSoftware>",
        f"<RxReferenceNumber>{rx_number}</RxReferenceNumber>" if rx_number else "",
        f"<PrescriberOrderNumber>{order}</PrescriberOrderNumber>" if order else "",
    ]
    return "<Header>" + "".join(parts) + "</Header>"


_PATIENT = """<Patient><HumanPatient>
  <Name><LastName>Synthetic</LastName><FirstName>Robin</FirstName></Name>
  <Gender>F</Gender><DateOfBirth><Date>1981-05-06</Date></DateOfBirth>
</HumanPatient></Patient>"""
#: the payer simulator's house plan (BIN 999001) pays amoxicillin when a cardholder id is sent
_COVERAGE = """<BenefitsCoordination>
  <PayerIdentification><ProcessorIdentificationNumber>RXHUB</ProcessorIdentificationNumber>
    <IINNumber>999001</IINNumber></PayerIdentification>
  <CardholderID>SYN-CARD-1</CardholderID><GroupID>GRP1</GroupID>
</BenefitsCoordination>"""
_PRESCRIBER = """<Prescriber><NonVeterinarian>
  <Identification><NPI>1234567893</NPI></Identification>
  <Name><LastName>Smith</LastName><FirstName>Pat</FirstName></Name>
</NonVeterinarian></Prescriber>"""


def new_rx(
    message_id: str,
    order: str,
    *,
    refills: int = 0,
    ndc: str = "00093005801",
    sent: str = "2026-01-15T09:30:00Z",
    quantity: str = "20",
) -> bytes:
    """A complete 2017071 NewRx for amoxicillin 500 mg (in the catalogue and the payer simulator)."""
    body = f"""<NewRx>{_COVERAGE}{_PATIENT}{_PRESCRIBER}
  <MedicationPrescribed>
    <DrugDescription>Amoxicillin 500 MG Oral Capsule</DrugDescription>
    <DrugCoded><ProductCode><Code>{ndc}</Code><Qualifier>ND</Qualifier></ProductCode></DrugCoded>
    <Quantity><Value>{quantity}</Value><CodeListQualifier>38</CodeListQualifier>
      <QuantityUnitOfMeasure><Code>C48480</Code></QuantityUnitOfMeasure></Quantity>
    <DaysSupply>10</DaysSupply>
    <WrittenDate><Date>{date.today().isoformat()}</Date></WrittenDate>
    <Substitutions>0</Substitutions>
    <NumberOfRefills>{refills}</NumberOfRefills>
    <Sig><SigText>Take 1 capsule by mouth twice daily for 10 days.</SigText></Sig>
  </MedicationPrescribed>
</NewRx>"""
    return _message(_header(message_id, order=order, sent=sent), body)


def cancel_rx(message_id: str, order: str) -> bytes:
    """A CancelRx for the order, naming it by PrescriberOrderNumber."""
    body = f"""<CancelRx><RequestReferenceNumber>REF-{message_id}</RequestReferenceNumber>{_PATIENT}{_PRESCRIBER}
  <MedicationPrescribed><DrugDescription>Amoxicillin 500 MG Oral Capsule</DrugDescription></MedicationPrescribed>
</CancelRx>"""
    return _message(_header(message_id, order=order), body)


def renewal_response(message_id: str, relates_to: str, refills: int = 2) -> bytes:
    """An RxRenewalResponse Approved that names the request only by RelatesToMessageID."""
    body = f"""<RxRenewalResponse><Response><Approved/></Response>{_PATIENT}{_PRESCRIBER}
  <MedicationResponse><DrugDescription>Amoxicillin 500 MG Oral Capsule</DrugDescription>
    <NumberOfRefills>{refills}</NumberOfRefills></MedicationResponse>
</RxRenewalResponse>"""
    return _message(_header(message_id, relates_to=relates_to), body)


def _message(header: str, body: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{_ROOT}{header}<Body>{body}</Body></Message>'.encode()
