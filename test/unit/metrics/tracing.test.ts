import { makeDynamoDocumentClient, makeSqsClient } from '../../../lib/runtime/aws';

/** X-Ray instrumentation is on in Lambda (AWS_EXECUTION_ENV set) and off everywhere else. */
describe('traceAwsClient through the AWS client factories', () => {
  const xray = (ids: string[]): string[] => ids.filter((id) => /XRay/i.test(id));
  const saved = process.env.AWS_EXECUTION_ENV;
  afterEach(() => {
    if (saved === undefined) delete process.env.AWS_EXECUTION_ENV;
    else process.env.AWS_EXECUTION_ENV = saved;
  });

  it('leaves the clients alone outside Lambda', () => {
    delete process.env.AWS_EXECUTION_ENV;
    expect(xray(makeSqsClient({ region: 'us-east-1', sqsEndpoint: undefined }).middlewareStack.identify())).toEqual([]);
  });

  it('instruments SQS and DynamoDB in Lambda, so SendMessage carries the trace header', () => {
    process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs20.x';
    expect(xray(makeSqsClient({ region: 'us-east-1', sqsEndpoint: undefined }).middlewareStack.identify())).toHaveLength(1);
    const doc = makeDynamoDocumentClient({ region: 'us-east-1', dynamodbEndpoint: undefined, sqsEndpoint: undefined });
    expect(xray(doc.middlewareStack.identify())).toHaveLength(1);
  });
});
