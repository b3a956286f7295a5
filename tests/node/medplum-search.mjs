// Drives searches with Medplum's MedplumClient: reads {baseUrl, token, searches: [{resourceType, searchParams}]}
// as JSON from argv[2], pages through each with searchResourcePages (the server's next links), prints
// {capabilities, results: [[{total, ids}...]...]} as JSON.
import { MedplumClient } from "@medplum/core";

const { baseUrl, token, searches } = JSON.parse(process.argv[2]);
const root = baseUrl.replace(/fhir\/?$/, "");
const client = new MedplumClient({ baseUrl: root, fhirUrlPath: "fhir", fetch });
client.setAccessToken(token);
const statement = await client.get(client.fhirUrl("metadata"));
const request = statement.rest[0].resource.find((r) => r.type === "MedicationRequest");
const declared = new Set((request.searchParam ?? []).map((p) => p.name));
const capabilities = {
  medicationRequestSearch: request.interaction.some((i) => i.code === "search-type"),
  identifier: declared.has("identifier"),
  patient: declared.has("patient"),
};
const results = [];
for (const { resourceType, searchParams } of searches) {
  const pages = [];
  for await (const page of client.searchResourcePages(resourceType, searchParams)) {
    pages.push({ total: page.bundle.total, ids: page.map((r) => r.id) });
  }
  results.push(pages);
}
console.log(JSON.stringify({ capabilities, results }));
