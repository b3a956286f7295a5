"""Synthetic SCRIPT messages written for these tests (no real people; NPI/DEA pass their check digits).

Real public samples are in ``/work/shared/corpus/script`` (see its SOURCES.md); these add what the
corpus lacks: a schema-style 2017071 NewRx with every field the hub maps, and a 10.6-style NewRx.
"""

from __future__ import annotations

from tests.support.corpus import CORPUS as SHARED_CORPUS

CORPUS = SHARED_CORPUS / "script"

NEWRX_2017071_FULL = b"""<?xml version="1.0" encoding="UTF-8"?>
<Message xmlns="http://www.ncpdp.org/schema/SCRIPT" DatatypesVersion="20170715" TransportVersion="20170715"
  TransactionDomain="SCRIPT" TransactionVersion="20170715" StructuresVersion="20170715" ECLVersion="20170715">
  <Header>
    <To Qualifier="P">7654321</To>
    <From Qualifier="D">9988776655001</From>
    <MessageID>TEST-NEWRX-0001</MessageID>
    <SentTime>2026-01-15T09:30:00Z</SentTime>
    <SenderSoftware>
      <SenderSoftwareDeveloper>Test</SenderSoftwareDeveloper>
      <SenderSoftwareProduct>Test EHR</SenderSoftwareProduct>
      <SenderSoftwareVersionRelease>1</SenderSoftwareVersionRelease>
    </SenderSoftware>
    <PrescriberOrderNumber>ORDER-42</PrescriberOrderNumber>
  </Header>
  <Body>
    <NewRx>
      <BenefitsCoordination>
        <PayerIdentification>
          <ProcessorIdentificationNumber>TESTPCN</ProcessorIdentificationNumber>
          <IINNumber>999999</IINNumber>
        </PayerIdentification>
        <PayerName>Synthetic Health Plan</PayerName>
        <CardholderID>CARD123</CardholderID>
        <GroupID>GRP9</GroupID>
      </BenefitsCoordination>
      <Patient>
        <HumanPatient>
          <Identification><MedicalRecordIdentificationNumberEHR>MRN-77</MedicalRecordIdentificationNumberEHR></Identification>
          <Name><LastName>Doe</LastName><FirstName>Alex</FirstName></Name>
          <Gender>M</Gender>
          <DateOfBirth><Date>1970-02-03</Date></DateOfBirth>
          <Address>
            <AddressLine1>1 Test Way</AddressLine1>
            <City>Springfield</City>
            <StateProvince>IL</StateProvince>
            <PostalCode>62701</PostalCode>
          </Address>
          <CommunicationNumbers><PrimaryTelephone><Number>5550100123</Number></PrimaryTelephone></CommunicationNumbers>
        </HumanPatient>
      </Patient>
      <Pharmacy><Identification><NCPDPID>7654321</NCPDPID></Identification>
        <BusinessName>Test Pharmacy</BusinessName></Pharmacy>
      <Prescriber>
        <NonVeterinarian>
          <Identification>
            <StateLicenseNumber>LIC-5</StateLicenseNumber>
            <DEANumber>AP5836727</DEANumber>
            <NPI>1234567893</NPI>
          </Identification>
          <Name><LastName>Smith</LastName><FirstName>Pat</FirstName></Name>
        </NonVeterinarian>
      </Prescriber>
      <AllergyOrAdverseEvent>
        <Allergies>
          <DrugProductCoded><Code>7980</Code><Qualifier>RXCUI</Qualifier>
            <Text>Penicillin G</Text></DrugProductCoded>
          <SeverityCoded><Text>Severe</Text></SeverityCoded>
        </Allergies>
      </AllergyOrAdverseEvent>
      <MedicationPrescribed>
        <DrugDescription>Tramadol 50 MG Oral Tablet</DrugDescription>
        <DrugCoded>
          <ProductCode><Code>00000111122</Code><Qualifier>ND</Qualifier></ProductCode>
          <Strength><StrengthValue>50</StrengthValue><StrengthForm><Code>C48542</Code></StrengthForm></Strength>
          <DrugDBCode><Code>835603</Code><Qualifier>SCD</Qualifier></DrugDBCode>
          <DEASchedule><Code>C48677</Code></DEASchedule>
        </DrugCoded>
        <Quantity>
          <Value>12.5</Value>
          <CodeListQualifier>38</CodeListQualifier>
          <QuantityUnitOfMeasure><Code>C48542</Code></QuantityUnitOfMeasure>
        </Quantity>
        <DaysSupply>5</DaysSupply>
        <WrittenDate><DateTime>2026-01-14T18:00:00-05:00</DateTime></WrittenDate>
        <Substitutions>1</Substitutions>
        <NumberOfRefills>2</NumberOfRefills>
        <Sig><SigText>Take 1 tablet by mouth every 6 hours as needed for pain.</SigText></Sig>
        <Note>Synthetic note &amp; test</Note>
      </MedicationPrescribed>
    </NewRx>
  </Body>
</Message>
"""

#: 10.6 spellings: version/release attributes, no person wrapper, ProductCodeQualifier, Refills/Value,
#: PotencyUnitCode, Directions, ZipCode/State, Communication entries (element names partly unverified)
NEWRX_10_6 = b"""<?xml version="1.0" encoding="UTF-8"?>
<Message version="010" release="006">
  <Header>
    <To Qualifier="P">7654321</To>
    <From Qualifier="D">9988776655001</From>
    <MessageID>TEST-NEWRX-106</MessageID>
    <SentTime>2016-05-01T10:00:00Z</SentTime>
  </Header>
  <Body>
    <NewRx>
      <Pharmacy><Identification><NCPDPID>7654321</NCPDPID></Identification></Pharmacy>
      <Prescriber>
        <Identification><NPI>1993999998</NPI><DEANumber>AJ5184279</DEANumber></Identification>
        <Name><LastName>Jones</LastName><FirstName>Kim</FirstName></Name>
      </Prescriber>
      <Patient>
        <Name><LastName>Roe</LastName><FirstName>Sam</FirstName></Name>
        <Gender>F</Gender>
        <DateOfBirth><Date>1985-07-08</Date></DateOfBirth>
        <Address><AddressLine1>2 Test St</AddressLine1><City>Testville</City>
          <State>OH</State><ZipCode>43004</ZipCode></Address>
        <CommunicationNumbers>
          <Communication><Number>5550100999</Number><Qualifier>FX</Qualifier></Communication>
          <Communication><Number>5550100222</Number><Qualifier>TE</Qualifier></Communication>
        </CommunicationNumbers>
      </Patient>
      <MedicationPrescribed>
        <DrugDescription>Lisinopril 10 MG Oral Tablet</DrugDescription>
        <DrugCoded>
          <ProductCode>00000333344</ProductCode>
          <ProductCodeQualifier>ND</ProductCodeQualifier>
          <DrugDBCode>314076</DrugDBCode>
          <DrugDBCodeQualifier>SCD</DrugDBCodeQualifier>
        </DrugCoded>
        <Quantity><Value>30</Value><CodeListQualifier>38</CodeListQualifier><PotencyUnitCode>C48542</PotencyUnitCode></Quantity>
        <DaysSupply>30</DaysSupply>
        <Directions>Take 1 tablet by mouth daily.</Directions>
        <Refills><Qualifier>R</Qualifier><Value>5</Value></Refills>
        <Substitutions>0</Substitutions>
        <WrittenDate><Date>2016-05-01</Date></WrittenDate>
      </MedicationPrescribed>
    </NewRx>
  </Body>
</Message>
"""


def corpus(name: str) -> bytes:
    """A corpus file's bytes."""
    return (CORPUS / name).read_bytes()


def replace(body: bytes, old: bytes, new: bytes) -> bytes:
    """``body`` with exactly one occurrence of ``old`` replaced (fails loudly if the sample changed)."""
    assert body.count(old) == 1, old
    return body.replace(old, new)
