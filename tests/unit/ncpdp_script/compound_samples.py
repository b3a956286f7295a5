"""A synthetic compound NewRx (SCRIPT 2017071 CompoundInformation): a mouthwash of two catalogue NDCs and one the
catalogue lacks, dispensed in millilitres. Made up for the tests; no real people."""

from __future__ import annotations

from tests.unit.ncpdp_script.samples import NEWRX_2017071_FULL

# dexamethasone 4 mg tablets and nizatidine oral solution are in hub/data/drug-catalogue.json; 99999-0001-01 is not
DEXAMETHASONE, NIZATIDINE, UNKNOWN = "00054418425", "52268015001", "99999000101"


def ingredient(ndc: str | None, name: str, value: str, unit: str = "C28254", qualifier: str = "ND") -> str:
    """One CompoundIngredientsLotNotUsed (unit: NCI code, C28254 mL, C48542 tablet)."""
    item = f"<ItemNumber><Code>{ndc}</Code><Qualifier>{qualifier}</Qualifier></ItemNumber>" if ndc else ""
    return f"""<CompoundIngredientsLotNotUsed>
      <CompoundIngredient><CompoundIngredientItemDescription>{name}</CompoundIngredientItemDescription>{item}
      </CompoundIngredient>
      <Quantity><Value>{value}</Value><CodeListQualifier>38</CodeListQualifier>
        <QuantityUnitOfMeasure><Code>{unit}</Code></QuantityUnitOfMeasure></Quantity>
    </CompoundIngredientsLotNotUsed>"""


MOUTHWASH = (
    ingredient(DEXAMETHASONE, "Dexamethasone 4 mg tablet", "6", "C48542"),
    ingredient(NIZATIDINE, "Nizatidine 15 mg/mL oral solution", "120"),
    ingredient(UNKNOWN, "Lidocaine viscous 2%", "120"),
)


def medication(*ingredients: str, form: str = "C42994", quantity: str = "240", unit: str = "C28254") -> str:
    """MedicationPrescribed for a compound: no DrugCoded, CompoundInformation with ``ingredients``."""
    return f"""<MedicationPrescribed>
        <DrugDescription>Magic mouthwash</DrugDescription>
        <Quantity><Value>{quantity}</Value><CodeListQualifier>CF</CodeListQualifier>
          <QuantityUnitOfMeasure><Code>{unit}</Code></QuantityUnitOfMeasure></Quantity>
        <DaysSupply>8</DaysSupply>
        <WrittenDate><Date>2026-01-14</Date></WrittenDate>
        <Substitutions>0</Substitutions>
        <NumberOfRefills>1</NumberOfRefills>
        <Sig><SigText>Swish and spit 10 mL four times daily.</SigText></Sig>
        <CompoundInformation>
          <FinalCompoundPharmaceuticalDosageForm>{form}</FinalCompoundPharmaceuticalDosageForm>
          {"".join(ingredients)}
        </CompoundInformation>
      </MedicationPrescribed>"""


def compound_new_rx(*ingredients: str, body: bytes = NEWRX_2017071_FULL, **options: str) -> bytes:
    """``body`` (a NewRx) with its MedicationPrescribed replaced by the compound's."""
    start, end = body.index(b"<MedicationPrescribed>"), body.index(b"</MedicationPrescribed>")
    end += len(b"</MedicationPrescribed>")
    return body[:start] + medication(*(ingredients or MOUTHWASH), **options).encode() + body[end:]
