/**
 * The API extensions served (`GET /v2.0/extensions`): only those whose
 * attributes and behaviour ovnts implements, each described with the name,
 * alias and date the Zed server reports for it so that clients probing for
 * an alias see the same answer.
 */
export interface Extension {
  readonly name: string;
  readonly alias: string;
  readonly description: string;
  readonly updated: string;
}

export const EXTENSIONS: readonly Extension[] = [
  {
    name: 'Allowed Address Pairs',
    alias: 'allowed-address-pairs',
    description: 'Provides allowed address pairs',
    updated: '2013-07-23T10:00:00-00:00',
  },
  {
    name: 'Neutron external network',
    alias: 'external-net',
    description: 'Adds external network attribute to network resource.',
    updated: '2013-01-14T10:00:00-00:00',
  },
  {
    name: 'Filter parameters validation',
    alias: 'filter-validation',
    description: 'Provides validation on filter parameters.',
    updated: '2018-07-04T10:00:00-00:00',
  },
  {
    name: 'Neutron L3 Router',
    alias: 'router',
    description:
      'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.',
    updated: '2012-07-20T10:00:00-00:00',
  },
  {
    name: 'Network MTU',
    alias: 'net-mtu',
    description: 'Provides MTU attribute for a network resource.',
    updated: '2015-03-25T10:00:00-00:00',
  },
  {
    name: 'Network MTU (writable)',
    alias: 'net-mtu-writable',
    description: 'Provides a writable MTU attribute for a network resource.',
    updated: '2017-07-12T00:00:00-00:00',
  },
  {
    name: 'Port Binding',
    alias: 'binding',
    description: 'Expose port bindings of a virtual port to external application',
    updated: '2014-02-03T10:00:00-00:00',
  },
  { name: 'Port Security', alias: 'port-security', description: 'Provides port security', updated: '2012-07-23T10:00:00-00:00' },
  {
    name: 'project_id field enabled',
    alias: 'project-id',
    description: 'Extension that indicates that project_id field is enabled.',
    updated: '2016-09-09T09:09:09-09:09',
  },
  {
    name: 'Resource revision numbers',
    alias: 'standard-attr-revisions',
    description: 'This extension will display the revision number of neutron resources.',
    updated: '2016-04-11T10:00:00-00:00',
  },
  {
    name: 'standard-attr-description',
    alias: 'standard-attr-description',
    description: 'Extension to add descriptions to standard attributes',
    updated: '2016-02-10T10:00:00-00:00',
  },
  {
    name: 'Resource timestamps',
    alias: 'standard-attr-timestamp',
    description: 'Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.',
    updated: '2016-09-12T10:00:00-00:00',
  },
  { name: 'Trunk Extension', alias: 'trunk', description: 'Provides support for trunk ports', updated: '2016-01-01T10:00:00-00:00' },
  { name: 'Trunk port details', alias: 'trunk-details', description: 'Expose trunk port details', updated: '2016-01-01T10:00:00-00:00' },
];

export function extensionView(x: Extension): Record<string, unknown> {
  return { name: x.name, alias: x.alias, description: x.description, updated: x.updated, links: [] };
}
