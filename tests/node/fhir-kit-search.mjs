// Drives searches with fhir-kit-client: reads {baseUrl, token, searches: [{resourceType, searchParams, post}]}
// as JSON from argv[2], follows every next link, prints {capabilities, results: [[page ids...]...]} as JSON.
import { CapabilityTool, Client } from "fhir-kit-client";

const { baseUrl, token, searches } = JSON.parse(process.argv[2]);
const client = new Client({ baseUrl, bearerToken: token });
const statement = await client.capabilityStatement();
const tool = new CapabilityTool(statement);
const searchable = (type, name) =>
  tool.supportFor({ resourceType: type, capabilityType: "searchParam", where: { name } });
const capabilities = {
  medicationRequestSearch: tool.resourceCan("MedicationRequest", "search-type"),
  identifier: searchable("MedicationRequest", "identifier"),
  patient: searchable("MedicationRequest", "patient"),
};
const results = [];
for (const { resourceType, searchParams, post } of searches) {
  const pages = [];
  let bundle = await client.search({ resourceType, searchParams, options: { postSearch: Boolean(post) } });
  while (bundle) {
    pages.push({ total: bundle.total, ids: (bundle.entry ?? []).map((e) => e.resource.id) });
    bundle = await client.nextPage({ bundle });
  }
  results.push(pages);
}
console.log(JSON.stringify({ capabilities, results }));
