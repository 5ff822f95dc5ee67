// Orders: the list, an order waiting for a top-up, renewing an expired mailbox. Italian first, English beside it; placeholders are {name}.
export const it = {
  ordersTitle: 'Ordini',
  noOrders: 'Nessun ordine.',
  colOrder: 'Ordine',
  colMailbox: 'Casella',
  colActions: 'Azioni',
  orderExtra: 'Spazio Extra Inbox, {gb} GB',
  orderRenewal: 'Rinnovo annuale',
  cancelOrder: 'Annulla ordine',
};

export const en: typeof it = {
  ordersTitle: 'Orders',
  noOrders: 'No orders.',
  colOrder: 'Order',
  colMailbox: 'Mailbox',
  colActions: 'Actions',
  orderExtra: 'Extra Inbox Space, {gb} GB',
  orderRenewal: 'Yearly renewal',
  cancelOrder: 'Cancel order',
};
