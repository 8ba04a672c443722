/** The value every cache benchmark stores: a contractor profile of typical size and shape. */
export const value = {
  id: 1042,
  name: 'Ada Builders GmbH',
  trades: ['roofing', 'plumbing', 'electrical'],
  rating: 4.7,
  since: '2014-03-01',
  address: { street: 'Hauptstraße 12', city: 'Berlin', zip: '10115' },
  verified: true,
};
