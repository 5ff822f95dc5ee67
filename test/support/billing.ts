// Billing data for tests (R15): a top-up needs them, so the helpers that make holders record one.
export const PERSON_PROFILE = {
  kind: 'person',
  givenName: 'Mario',
  familyName: 'Rossi',
  taxCode: 'RSSMRA85T10A562S',
  address: { street: 'Via Roma', streetNumber: '10', postalCode: '00184', city: 'Roma', province: 'RM', country: 'IT' },
  sdiCode: '0000000',
};

export const BUSINESS_WITH_CODE = {
  kind: 'business',
  companyName: 'Studio Legale Bianchi & Associati S.r.l.',
  vatNumber: '00488410010',
  taxCode: '00488410010',
  address: { street: 'Corso Vittorio Emanuele II', streetNumber: '21/B', postalCode: '10121', city: 'Torino', province: 'TO', country: 'IT' },
  sdiCode: 'M5UXCR1',
};

export const BUSINESS_WITH_PEC = {
  kind: 'business',
  givenName: 'Giulia',
  familyName: 'Verdi',
  vatNumber: '06363391001',
  address: { street: 'Piazza Duomo', postalCode: '20121', city: 'Milano', province: 'MI', country: 'IT' },
  sdiCode: '0000000',
  sdiPec: 'giulia.verdi@pec.example.it',
};
